from django.db import models

from core.users import is_active_user


class PatientCanonicalQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Deny by default. Admins (cross-system view): everyone. CPSS supervisors: people in the
        CM program. CPSS: people enrolled on their own caseload. Psychiatry: nobody (their
        pages read IntakeQ's table, never the canonical one).

        CM data is reached through reverse relations, so identity imports no other app.
        """
        if not is_active_user(user):
            return self.none()
        if user.has_perm("identity.view_complete_patient_view"):
            return self
        if user.has_perm("cm_program.view_all_cm_patients"):
            return self.filter(cm_record__isnull=False)
        if user.has_perm("identity.view_patientcanonical"):
            return self.filter(
                pk__in=self.model.objects.filter(enrollments__cpss_provider__user=user).values("pk")
            )
        return self.none()
