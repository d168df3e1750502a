import re

from django.db.models import F, Func, Q, QuerySet, TextField, Value

from identity.dates import parse_date
from intakeq_link.models import IntakeQPatient, LinkProposal

_PHONE_TEXT = re.compile(r"[\d\s().+-]+")


def _phone_digits(text: str) -> str | None:
    """The 10 digits of a US phone number typed in any usual way, else None."""
    if not _PHONE_TEXT.fullmatch(text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) == 10 else None


def intakeq_patient_search(*, user, query: str = "") -> QuerySet[IntakeQPatient]:
    """IntakeQ's own patients visible to ``user``, filtered by name words, a date of birth (any
    format identity.dates.parse_date reads: "Mar 22, 1992" is one date, not three words), a
    phone number or an IntakeQ client id. Never joins CM or link tables, so nothing in the
    result (rows, order, count) depends on whether someone is in the CM program."""
    patients = IntakeQPatient.objects.visible_to(user).from_intakeq()
    query = query.strip()
    if (date := parse_date(query)) is not None:
        return patients.filter(date_of_birth=date).order_by("last_name", "first_name", "id")
    if (digits := _phone_digits(query)) is not None:
        # The sync writes phones as IntakeQ has them, so compare digits, whatever the format.
        stored = Func(
            F("phone"),
            Value(r"\D"),
            Value(""),
            Value("g"),
            function="regexp_replace",
            output_field=TextField(),
        )
        patients = patients.alias(phone_digits=stored).filter(
            Q(phone_digits=digits) | Q(phone_digits=f"1{digits}") | Q(intakeq_client_id=query)
        )
        return patients.order_by("last_name", "first_name", "id")
    for word in query.split()[:5]:
        condition = (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(intakeq_client_id__iexact=word)
        )
        if (date := parse_date(word)) is not None:
            condition |= Q(date_of_birth=date)
        patients = patients.filter(condition)
    return patients.order_by("last_name", "first_name", "id")


def intakeq_patient_get(*, user, pk) -> IntakeQPatient | None:
    return intakeq_patient_search(user=user).filter(pk=pk).first()


def link_proposals_pending():
    """The review queue: pending proposals, best score first, with both people joined."""
    return (
        LinkProposal.objects.filter(status=LinkProposal.Status.PENDING)
        .select_related("canonical_patient", "intakeq_patient")
        .order_by("-score", "proposed_at")
    )
