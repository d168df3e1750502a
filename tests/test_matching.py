"""find_candidates: blocking on dates of birth, explainable scores, and accuracy on hard cases."""

import datetime
import random
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from rapidfuzz.distance import JaroWinkler

from identity import names as names_module
from identity.matching import find_candidates
from identity.services import find_or_create_canonical_patient
from tests.factories import IntakeQPatientFactory, PatientCanonicalFactory

pytestmark = pytest.mark.django_db

DOB = datetime.date(1985, 6, 15)

# (query, stored record, same person?, reason the matcher must give when it is)
# Stored records are canonical patients; the query is what staff type at enrollment.
LABELLED = [
    # --- the same person, entered differently ---
    (("Jessica", "Martinez", "1992-03-22"), ("Jessica", "Martinez", "1992-03-22"), True, "exact"),
    (
        ("JESSICA ", "martínez", "1992-03-22"),
        ("Jessica", "Martinez", "1992-03-22"),
        True,
        "normalized",
    ),
    (("Jesica", "Martinez", "1992-03-22"), ("Jessica", "Martinez", "1992-03-22"), True, "typo"),
    (("Jessica", "Martniez", "1992-03-22"), ("Jessica", "Martinez", "1992-03-22"), True, "typo"),
    (("Bob", "Thompson", "1970-01-30"), ("Robert", "Thompson", "1970-01-30"), True, "nickname"),
    (("Liz", "Carter", "1988-09-09"), ("Elizabeth", "Carter", "1988-09-09"), True, "nickname"),
    (("Bill", "Nguyen", "1975-12-01"), ("William", "Nguyen", "1975-12-01"), True, "nickname"),
    (("Katherine", "Olsen", "1990-02-14"), ("Catherine", "Olsen", "1990-02-14"), True, "nickname"),
    (("Jon", "Smyth", "1982-07-04"), ("Jon", "Smith", "1982-07-04"), True, "typo"),
    (
        ("Maria", "Lopez", "1986-04-07"),
        ("Maria", "Lopez", "1986-07-04"),
        True,
        "dob_day_month_swapped",
    ),
    (
        ("Tyler", "Reed", "1987-05-14"),
        ("Tyler", "Reed", "1978-05-14"),
        True,
        "dob_transposed_digits",
    ),
    (("Tyler", "Banks", "1987-05-14"), ("Tyler", "Banks", "1987-05-24"), True, "dob_one_digit_off"),
    (
        ("Hernandez", "Luis", "1979-10-10"),
        ("Luis", "Hernandez", "1979-10-10"),
        True,
        "first_last_swapped",
    ),
    (
        ("Ana", "Garcia-Lopez", "1993-11-21"),
        ("Ana", "Garcia", "1993-11-21"),
        True,
        "hyphenated_last_name",
    ),
    (
        ("Ana", "Garcia Lopez", "1993-11-21"),
        ("Ana", "Lopez", "1993-11-21"),
        True,
        "hyphenated_last_name",
    ),
    (
        ("Emily", "Walker", "1995-08-19"),
        ("Emily", "Davis", "1995-08-19"),
        True,
        "last_name_changed",
    ),
    (("Sean", "O'Brien", "1980-03-03"), ("Sean", "OBrien", "1980-03-03"), True, "normalized"),
    (
        ("Mary Ann", "Kowalski", "1961-05-05"),
        ("Mary", "Kowalski", "1961-05-05"),
        True,
        "compound_name",
    ),
    # --- different people who look alike ---
    (("Mark", "Jensen", "2001-04-12"), ("Mary", "Jensen", "2001-04-12"), False, None),  # twins
    (("Daniel", "Young", "1999-09-30"), ("Danielle", "Young", "1999-09-30"), False, None),  # twins
    (("Eric", "Moss", "1998-01-17"), ("Erica", "Moss", "1998-01-17"), False, None),  # twins
    (("Ashley", "Price", "1994-06-06"), ("Amber", "Price", "1994-06-06"), False, None),  # twins
    (("John", "Keller", "1994-06-06"), ("Joan", "Keller", "1994-06-06"), False, None),  # twins
    (("John", "Smith", "1985-06-15"), ("John", "Smith", "1961-02-03"), False, None),  # father/son
    (("David", "Park", "1990-01-01"), ("David", "Park", "1958-11-23"), False, None),  # father/son
    (("John", "Smith", "1985-06-15"), ("John", "Smith", "1965-06-15"), False, None),  # 20 y apart
    (("Laura", "Chen", "1985-06-15"), ("Peter", "Miller", "1985-06-15"), False, None),  # birthday
]


def _date(text):
    return datetime.date.fromisoformat(text)


def _best_score_for(query, stored_pk):
    first, last, dob = query
    for candidate in find_candidates(first_name=first, last_name=last, date_of_birth=dob):
        if candidate.pk == stored_pk:
            return candidate
    return None


def _run_labelled_set():
    """Every stored record in one table at once, so each query also faces the others."""
    stored = [
        find_or_create_canonical_patient(first_name=first, last_name=last, date_of_birth=dob)[0]
        for _, (first, last, dob), _, _ in LABELLED
    ]
    review_min = Decimal(str(settings.CM_LINK_REVIEW_MIN_SCORE))
    results = []
    for (query, _, same, reason), record in zip(LABELLED, stored, strict=True):
        candidate = _best_score_for(query, record.pk)
        predicted = candidate is not None and candidate.score >= review_min
        results.append((query, same, reason, predicted, candidate))
    return results


def test_labelled_hard_cases_reach_precision_and_recall_thresholds():
    results = _run_labelled_set()
    true_pos = sum(1 for _, same, _, predicted, _ in results if same and predicted)
    false_pos = sum(1 for _, same, _, predicted, _ in results if not same and predicted)
    false_neg = sum(1 for _, same, _, predicted, _ in results if same and not predicted)

    assert false_pos == 0, [r[0] for r in results if not r[1] and r[3]]
    assert true_pos / (true_pos + false_neg) >= 0.95, [r[0] for r in results if r[1] and not r[3]]


@pytest.mark.parametrize(
    ("query", "stored", "reason"),
    [(q, s, r) for q, s, same, r in LABELLED if same],
    ids=[f"{r}:{q[0]}" for q, _, same, r in LABELLED if same],
)
def test_same_person_is_proposed_with_its_reason(query, stored, reason):
    record = PatientCanonicalFactory(
        first_name=stored[0], last_name=stored[1], date_of_birth=_date(stored[2])
    )
    candidate = _best_score_for(query, record.pk)
    assert candidate is not None
    assert candidate.score >= Decimal(str(settings.CM_LINK_REVIEW_MIN_SCORE))
    assert reason in candidate.reasons


@pytest.mark.parametrize(
    ("query", "stored"),
    [(q, s) for q, s, same, _ in LABELLED if not same],
    ids=[f"{q[0]}-vs-{s[0]}-{s[2]}" for q, s, same, _ in LABELLED if not same],
)
def test_different_people_are_never_proposed(query, stored):
    record = PatientCanonicalFactory(
        first_name=stored[0], last_name=stored[1], date_of_birth=_date(stored[2])
    )
    candidate = _best_score_for(query, record.pk)
    assert candidate is None or candidate.score < Decimal(str(settings.CM_LINK_REVIEW_MIN_SCORE))


def test_identical_person_ranks_first_with_full_score():
    PatientCanonicalFactory(first_name="Jon", last_name="Smith", date_of_birth=DOB)
    PatientCanonicalFactory(first_name="Jane", last_name="Smith", date_of_birth=DOB)
    same = PatientCanonicalFactory(first_name="John", last_name="Smith", date_of_birth=DOB)

    candidates = find_candidates(first_name="John", last_name="Smith", date_of_birth=DOB)

    assert candidates[0].pk == same.pk
    assert candidates[0].score == Decimal("1.00")
    assert candidates[0].reasons == ("exact",)
    assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)


def test_only_exact_and_normalized_identity_reach_the_automatic_link_score():
    auto_min = Decimal(str(settings.CM_AUTO_LINK_MIN_SCORE))
    results = _run_labelled_set()
    automatic = {reason for _, _, reason, _, c in results if c is not None and c.score >= auto_min}
    assert automatic == {"exact", "normalized"}


def test_father_and_son_appear_as_a_low_candidate_saying_the_dates_differ():
    father = PatientCanonicalFactory(
        first_name="John", last_name="Smith", date_of_birth=datetime.date(1961, 2, 3)
    )

    candidates = find_candidates(first_name="John", last_name="Smith", date_of_birth=DOB)

    assert [c.pk for c in candidates] == [father.pk]
    assert "dob_differs" in candidates[0].reasons
    assert candidates[0].score < Decimal(str(settings.CM_LINK_REVIEW_MIN_SCORE))


def test_intakeq_patients_are_candidates_but_rows_of_the_old_cm_app_are_not():
    emr = IntakeQPatientFactory(first_name="John", last_name="Smith", date_of_birth=DOB)
    IntakeQPatientFactory(
        intakeq_client_id=None, first_name="John", last_name="Smith", date_of_birth=DOB
    )

    candidates = find_candidates(first_name="John", last_name="Smith", date_of_birth=DOB)

    assert [(c.source, c.pk) for c in candidates] == [("intakeq", emr.pk)]


def test_intakeq_patient_with_swapped_day_and_month_is_found():
    emr = IntakeQPatientFactory(
        first_name="Maria", last_name="Lopez", date_of_birth=datetime.date(1986, 7, 4)
    )

    candidates = find_candidates(
        first_name="Maria", last_name="Lopez", date_of_birth=datetime.date(1986, 4, 7)
    )

    assert candidates[0].pk == emr.pk
    assert "dob_day_month_swapped" in candidates[0].reasons


def test_unrelated_people_sharing_a_birthday_are_not_returned():
    PatientCanonicalFactory(first_name="Peter", last_name="Miller", date_of_birth=DOB)
    IntakeQPatientFactory(first_name="Zoe", last_name="Quinn", date_of_birth=DOB)

    assert find_candidates(first_name="Laura", last_name="Chen", date_of_birth=DOB) == []


def test_limit_caps_the_number_of_candidates():
    for first in ["Jon", "Johnny", "Jonh", "Jhon"]:
        PatientCanonicalFactory(first_name=first, last_name="Smith", date_of_birth=DOB)

    candidates = find_candidates(first_name="John", last_name="Smith", date_of_birth=DOB, limit=2)

    assert len(candidates) == 2


@pytest.mark.parametrize(
    ("first_name", "last_name", "date_of_birth"),
    [("", "Smith", DOB), ("John", "   ", DOB), ("John", "Smith", "15/06/1985")],
)
def test_find_candidates_refuses_bad_input(first_name, last_name, date_of_birth):
    with pytest.raises(ValidationError):
        find_candidates(first_name=first_name, last_name=last_name, date_of_birth=date_of_birth)


def _generated_cases(rng, count):
    """Pairs (stored, query, same person?) made from perturbations people really make."""
    pairs = sorted((a, b) for a, related in names_module._nickname_graph().items() for b in related)
    distinct = sorted(names_module.known_given_names() - set(names_module._nickname_graph()))
    surnames = ["Martinez", "Anderson", "Kowalski", "Richardson", "Fitzgerald", "Henderson"]
    cases = []
    for i in range(count):
        last = f"{rng.choice(surnames)}{'abcdefghij'[i % 10]}{'klmnopqrst'[i // 10 % 10]}"
        formal, nick = rng.choice(pairs)
        dob = datetime.date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28))
        stored = (formal.capitalize(), last, dob)
        kind = i % 6
        if kind == 0:  # nickname
            query = (nick.capitalize(), last, dob)
        elif kind == 1:  # adjacent letters swapped in the last name
            j = rng.randint(1, len(last) - 3)
            query = (stored[0], last[:j] + last[j + 1] + last[j] + last[j + 2 :], dob)
        elif kind == 2:  # day and month swapped (only where both make a date)
            swapped = datetime.date(dob.year, dob.day, dob.month) if dob.day <= 12 else dob
            query = (stored[0].upper(), last, swapped)
        elif kind == 3:  # married: hyphenated last name
            query = (stored[0], f"{last}-Ortega", dob)
        elif kind == 4:  # twin: same last name and date, the most similar other real name
            nearest = sorted(
                (n for n in distinct if n != formal),
                key=lambda n: -JaroWinkler.similarity(n, formal),
            )
            other = rng.choice(nearest[:3])
            cases.append((stored, (other.capitalize(), last, dob), False))
            continue
        else:  # father or son: same name, a generation apart
            other_dob = dob.replace(year=dob.year - rng.choice([19, 23, 26, 31, 34]))
            cases.append((stored, (stored[0], last, other_dob), False))
            continue
        cases.append((stored, query, True))
    return cases


def test_generated_hard_cases_have_no_false_match_and_high_recall():
    rng = random.Random(20261127)
    cases = _generated_cases(rng, 120)
    review_min = Decimal(str(settings.CM_LINK_REVIEW_MIN_SCORE))
    outcomes = []
    for stored, query, same in cases:
        record = PatientCanonicalFactory(
            first_name=stored[0], last_name=stored[1], date_of_birth=stored[2]
        )
        candidate = _best_score_for(query, record.pk)
        outcomes.append((same, candidate is not None and candidate.score >= review_min, query))

    false_matches = [q for same, predicted, q in outcomes if predicted and not same]
    missed = [q for same, predicted, q in outcomes if same and not predicted]
    positives = sum(1 for same, _, _ in outcomes if same)
    assert false_matches == []
    assert 1 - len(missed) / positives >= 0.95, missed
