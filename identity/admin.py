from django.contrib import admin

from identity.models import PatientCanonical


@admin.register(PatientCanonical)
class PatientCanonicalAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "date_of_birth", "created_at"]
    search_fields = ["last_name_normalized", "first_name_normalized"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "first_name_normalized",
        "last_name_normalized",
        "created_at",
        "updated_at",
    ]
