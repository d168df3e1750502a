"""What a reviewer sees to decide a pair: both records side by side, and the reasons in words.

identity imports no other app: the canonical side's phone and email come from the CM record by
its reverse relation's name, an IntakeQ patient is read by attribute (any object with first_name,
last_name, date_of_birth, phone, email, intakeq_client_id).
"""

from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist

from identity import dates, matching, names

REASON_WORDS = {
    matching.EXACT: "identical name and date of birth",
    matching.SWAPPED: "first and last names swapped",
    matching.HYPHENATED: "a hyphenated last name gained or lost a part",
    matching.LAST_NAME_CHANGED: "same first name, another last name (marriage?)",
    matching.FIRST_NAME_DIFFERS: "another first name (a twin or sibling?)",
    matching.SAME_PHONE: "same phone number",
    matching.SAME_EMAIL: "same email address",
    matching.PHONE_DIFFERS: "different phone numbers",
    matching.EMAIL_DIFFERS: "different email addresses",
    names.NORMALIZED: "names equal apart from case, accents or spacing",
    names.NICKNAME: "a first name is a nickname of the other",
    names.PHONETIC: "names sound alike",
    names.TYPO: "names one or two typing slips apart",
    names.COMPOUND: "one first name is part of the other",
    dates.DAY_MONTH_SWAPPED: "date of birth with day and month swapped",
    dates.TRANSPOSED: "date of birth with two digits transposed",
    dates.ONE_DIGIT: "date of birth one digit off",
    dates.DECADE_DIGIT: "date of birth a decade or century off (father and son?)",
    dates.DIFFERENT: "different dates of birth",
}


def reasons_in_words(reasons) -> list[str]:
    return [REASON_WORDS.get(reason, reason.replace("_", " ")) for reason in reasons]


@dataclass(frozen=True)
class Side:
    title: str
    first_name: str
    last_name: str
    date_of_birth: object
    phone: str
    email: str
    other: str = ""  # what else identifies the record (IntakeQ client id, CM record)


def canonical_side(patient, title: str = "Canonical patient") -> Side:
    try:
        cm = patient.cm_record
    except ObjectDoesNotExist:
        cm = None
    try:
        link = patient.intakeq_link
    except ObjectDoesNotExist:
        link = None
    other = "; ".join(
        part
        for part in (
            "in the CM program" if cm else "not in the CM program",
            f"linked to IntakeQ client {link.intakeq_patient.intakeq_client_id}"
            if link and link.intakeq_patient_id
            else "not linked to IntakeQ",
        )
    )
    return Side(
        title,
        patient.first_name,
        patient.last_name,
        patient.date_of_birth,
        (cm.phone if cm else "") or "—",
        (cm.email if cm else "") or "—",
        other,
    )


def intakeq_side(patient, title: str = "IntakeQ patient") -> Side:
    return Side(
        title,
        patient.first_name,
        patient.last_name,
        patient.date_of_birth,
        patient.phone or "—",
        patient.email or "—",
        f"IntakeQ client {patient.intakeq_client_id}",
    )


def side_by_side(left: Side, right: Side) -> list[tuple[str, object, object]]:
    return [
        ("First name", left.first_name, right.first_name),
        ("Last name", left.last_name, right.last_name),
        ("Date of birth", left.date_of_birth, right.date_of_birth),
        ("Phone", left.phone, right.phone),
        ("Email", left.email, right.email),
        ("Records", left.other, right.other),
    ]
