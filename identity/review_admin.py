"""What the two review queues' admins share (identity's duplicates, intakeq_link's link
proposals): a "decide" page per pair, its link in the list, and the reasons in words."""

from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html

from identity.evidence import reasons_in_words

DECISION_FIELDS = [
    "score",
    "reasons",
    "status",
    "proposed_at",
    "decided_by",
    "decided_at",
    "decision_note",
]


class PairReviewAdminMixin:
    """The ModelAdmin defines ``decide_view(request, pk)``; this adds its URL
    (``admin:<app>_<model>_decide``) and the list columns that lead to it."""

    def _decide_url_name(self) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_decide"

    def get_urls(self):
        return [
            path(
                "<uuid:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name=self._decide_url_name(),
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Why proposed")
    def reasons_display(self, obj):
        return "; ".join(reasons_in_words(obj.reasons))

    @admin.display(description="Decide")
    def decide_link(self, obj):
        url = reverse(f"admin:{self._decide_url_name()}", args=[obj.pk])
        return format_html('<a href="{}">Compare and decide</a>', url)
