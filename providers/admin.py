from django.contrib import admin

from providers.models import ProviderCM


@admin.register(ProviderCM)
class ProviderCMAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "role", "credentials", "status", "max_caseload"]
    list_filter = ["role", "status"]
    search_fields = ["last_name", "first_name", "email"]
    raw_id_fields = ["user", "canonical_provider"]
    readonly_fields = ["id", "created_at", "updated_at"]
