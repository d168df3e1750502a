"""The supervisors' page for each program's list of pods (issue 12, dead end 10)."""

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from cm_program import pods
from cm_program.models import ContingencyManagement, Pod
from cm_program.selectors import programs_open
from core.forms import RecordChoiceField
from staff.access import access_required


class PodAddForm(forms.Form):
    cm_program = RecordChoiceField(
        label="Program",
        queryset=programs_open(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose a program from the list."},
    )
    name = forms.CharField(label="New pod", max_length=50)


class PodRenameForm(forms.Form):
    name = forms.CharField(label="Name", max_length=50)


@access_required(pods.MANAGE_PERMISSION)
class PodListView(View):
    """Every program's pods; add, rename (its enrollments follow), retire or bring back one."""

    template_name = "cm/pods.html"
    http_method_names = ["get", "post"]

    def get(self, request, add_form=None):
        programs = ContingencyManagement.objects.prefetch_related("pods").filter(is_active=True)
        return render(
            request,
            self.template_name,
            {"programs": programs, "add_form": add_form or PodAddForm()},
        )

    def post(self, request):
        action = request.POST.get("action")
        try:
            if action == "add":
                form = PodAddForm(request.POST)
                if not form.is_valid():
                    return self.get(request, add_form=form)
                pod = pods.pod_create(actor=request.user, **form.cleaned_data)
                messages.success(request, f"Pod “{pod}” added to {pod.cm_program}.")
            else:
                self._change(request, action)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return redirect("cm:pods")

    def _change(self, request, action):
        try:
            pod_id = uuid.UUID(request.POST.get("pod", ""))
        except ValueError:  # a hand-made POST: the same 404 as an unknown pod
            raise Http404("No such pod") from None
        pod = get_object_or_404(Pod, pk=pod_id)
        if action == "rename":
            form = PodRenameForm(request.POST)
            if not form.is_valid():
                # The form's own words: a blank name and a name too long are different slips.
                raise ValidationError(form.errors["name"])
            pods.pod_update(pod=pod, actor=request.user, name=form.cleaned_data["name"])
            messages.success(request, "Pod renamed; its enrollments follow.")
        elif action in ("retire", "restore"):
            pods.pod_update(pod=pod, actor=request.user, is_active=action == "restore")
            messages.success(
                request,
                f"Pod “{pod}” {'offered again' if action == 'restore' else 'no longer offered'}.",
            )
        else:
            raise ValidationError("Unknown action.")
