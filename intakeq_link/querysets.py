from django.db import models

from core.users import is_active_user
from intakeq_link.client_ids import IsIntakeQClientId

# Only the Admin group holds it: seeing a person across CM and IntakeQ.
CROSS_SYSTEM_PERMISSION = "identity.view_complete_patient_view"


class IntakeQPatientQuerySet(models.QuerySet):
    def from_intakeq(self):
        """Rows the IntakeQ sync wrote (intakeq_link.client_ids). Rows with a blank client id
        were written by the old CM app, so their mere presence tells that the person is in the
        CM program."""
        return self.filter(IsIntakeQClientId("intakeq_client_id"))

    def visible_to(self, user):
        """Deny by default. Cross-system viewers (Admin): every row. Staff who may view or search
        IntakeQ patients (psychiatry; CPSS looking up a Moonlit patient to enroll): IntakeQ's
        own rows only."""
        if not is_active_user(user):
            return self.none()
        if user.has_perm(CROSS_SYSTEM_PERMISSION):
            return self
        if user.has_perm("intakeq_link.view_intakeqpatient") or user.has_perm(
            "intakeq_link.search_intakeqpatient"
        ):
            return self.from_intakeq()
        return self.none()


class PatientIntakeQLinkQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Deny by default: a link tells that a person is in both systems."""
        if is_active_user(user) and (
            user.has_perm(CROSS_SYSTEM_PERMISSION)
            or user.has_perm("intakeq_link.review_patientintakeqlink")
        ):
            return self
        return self.none()
