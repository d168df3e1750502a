import pghistory
from django.db import models

from cm_program.models import Enrollment, PatientCM, SupervisorRequest
from identity.models import CanonicalMerge, PatientCanonical
from incentives.models import (
    DrugTest,
    IncentivePlan,
    IncentiveSchedule,
    LedgerEntry,
    ScheduledVisit,
)
from intakeq_link.models import PatientIntakeQLink
from providers.models import ProviderCM


# Snapshot of the row after each insert and update, and of the row before each delete. The
# triggers fire for every writer: the ORM, bulk_create/update, raw SQL, other clients.
# A tracker belongs to one model: each event model gets its own instances.
def _trackers():
    return (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())


def _event_model(tracked_model, model_name: str, db_table: str, verbose_name: str, **options):
    # append_only (PGHISTORY_APPEND_ONLY) puts a trigger on the event table that refuses
    # UPDATE and DELETE: history cannot be rewritten, by the site or by SQL.
    return pghistory.create_event_model(
        tracked_model,
        *_trackers(),
        app_label="audit",
        model_name=model_name,
        abstract=False,
        meta={"db_table": db_table, "verbose_name": verbose_name},
        # "Who" and "via" are copied into each event row (pgh_context, JSON; pgh_context_id
        # groups one request's events): no shared context table whose one UPDATE would rewrite
        # them for every event of a request.
        context_field=pghistory.ContextJSONField(),
        # The column the former link to that table used (kept, with its index).
        context_id_field=pghistory.ContextUUIDField(db_index=True),
        **options,
    )


PatientCanonicalEvent = _event_model(
    PatientCanonical,
    "PatientCanonicalEvent",
    "audit_patients_canonical_event",
    "canonical patient change",
    # Generated columns cannot be written; they follow from the names anyway.
    exclude=["first_name_normalized", "last_name_normalized"],
)
PatientCMEvent = _event_model(
    PatientCM, "PatientCMEvent", "audit_patients_cm_event", "CM patient change"
)
PatientIntakeQLinkEvent = _event_model(
    PatientIntakeQLink,
    "PatientIntakeQLinkEvent",
    "audit_patients_intakeq_link_event",
    "IntakeQ link change",
)
EnrollmentEvent = _event_model(
    Enrollment, "EnrollmentEvent", "audit_cm_enrollments_event", "CM enrollment change"
)
ProviderCMEvent = _event_model(
    ProviderCM, "ProviderCMEvent", "audit_providers_cm_event", "CM provider change"
)
SupervisorRequestEvent = _event_model(
    SupervisorRequest,
    "SupervisorRequestEvent",
    "audit_cm_supervisor_requests_event",
    "request for a supervisor change",
)
CanonicalMergeEvent = _event_model(
    CanonicalMerge,
    "CanonicalMergeEvent",
    "audit_patients_canonical_merge_event",
    "canonical patient merge change",
)
# The incentives app (issue #14). Tests and the ledger are append-only, so only inserts occur.
IncentiveScheduleEvent = _event_model(
    IncentiveSchedule,
    "IncentiveScheduleEvent",
    "audit_cm_incentive_schedules_event",
    "incentive schedule change",
)
IncentivePlanEvent = _event_model(
    IncentivePlan, "IncentivePlanEvent", "audit_cm_incentive_plans_event", "incentive plan change"
)
ScheduledVisitEvent = _event_model(
    ScheduledVisit,
    "ScheduledVisitEvent",
    "audit_cm_incentive_visits_event",
    "scheduled visit change",
)
DrugTestEvent = _event_model(
    DrugTest, "DrugTestEvent", "audit_cm_drug_tests_event", "drug test change"
)
LedgerEntryEvent = _event_model(
    LedgerEntry,
    "LedgerEntryEvent",
    "audit_cm_incentive_ledger_event",
    "incentive ledger change",
    # The entry's number, copied by the trigger; without the ledger's default, which would
    # number the events written before the column existed as if they were new entries.
    attrs={"seq": models.BigIntegerField(null=True, editable=False)},
)
