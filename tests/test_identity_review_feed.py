"""The review queues are fed: Scenario 1, manage.py propose_links, contact evidence, speed."""

import datetime
import random
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from identity import matching
from identity.matching import PersonRecord, find_candidates
from identity.models import DuplicateProposal, PatientCanonical
from identity.names import STRONG, compare_names, known_given_names, last_name_tokens_overlap
from identity.normalization import normalize_name
from identity.services import duplicate_proposal_reject
from intakeq_link.models import LinkProposal, PatientIntakeQLink, ProposeLinksRun
from intakeq_link.services import declined_candidates_queue
from tests.factories import (
    IntakeQPatientFactory,
    PatientCanonicalFactory,
    PatientCMFactory,
    admin_user,
)

pytestmark = pytest.mark.django_db

DOB = datetime.date(1988, 4, 12)


def propose(*args):
    out = StringIO()
    call_command("propose_links", *args, stdout=out)
    return out.getvalue()


def test_declined_candidates_go_to_both_queues():
    new = PatientCanonicalFactory(first_name="Jess", last_name="Martinez", date_of_birth=DOB)
    PatientCanonicalFactory(first_name="Jessica", last_name="Martinez", date_of_birth=DOB)
    IntakeQPatientFactory(first_name="Jessica", last_name="Martinez", date_of_birth=DOB)
    candidates = [
        c
        for c in find_candidates(first_name="Jess", last_name="Martinez", date_of_birth=DOB)
        if str(c.pk) != str(new.pk)
    ]

    outcome = declined_candidates_queue(canonical_patient=new, candidates=candidates)

    assert len(outcome.queued) == 1
    assert len(outcome.duplicates) == 1
    assert not PatientIntakeQLink.objects.exists()  # a person said no: never linked by itself


def test_rejecting_a_duplicate_requires_a_note_and_it_is_never_proposed_again():
    a = PatientCanonicalFactory(first_name="Jess", last_name="Martinez", date_of_birth=DOB)
    PatientCanonicalFactory(first_name="Jessica", last_name="Martinez", date_of_birth=DOB)
    propose()
    proposal = DuplicateProposal.objects.get()

    with pytest.raises(ValidationError):
        duplicate_proposal_reject(proposal=proposal, actor=admin_user(), note=" ")
    duplicate_proposal_reject(proposal=proposal, actor=admin_user(), note="Sisters")
    propose()

    assert DuplicateProposal.objects.get().status == "rejected"
    assert a.merged_into is None


def test_propose_links_queues_once_and_never_reproposes_a_rejected_pair():
    PatientCanonicalFactory(first_name="Jon", last_name="Smith", date_of_birth=DOB)
    IntakeQPatientFactory(first_name="Jonathan", last_name="Smith", date_of_birth=DOB)
    propose()
    LinkProposal.objects.update(status="rejected", decided_at=datetime.datetime.now(datetime.UTC))

    output = propose()

    assert LinkProposal.objects.count() == 1
    assert LinkProposal.objects.get().status == "rejected"
    assert "0 IntakeQ pairs" in output


def test_propose_links_links_a_single_sure_match_automatically():
    canonical = PatientCanonicalFactory(first_name="Ana", last_name="Reyes", date_of_birth=DOB)
    IntakeQPatientFactory(first_name="ana", last_name="REYES", date_of_birth=DOB)

    output = propose()

    assert PatientIntakeQLink.objects.get().canonical_patient == canonical
    assert "1 linked automatically" in output


def test_propose_links_dry_run_writes_nothing_and_says_what_it_would_do():
    PatientCanonicalFactory(first_name="Jon", last_name="Smith", date_of_birth=DOB)
    IntakeQPatientFactory(first_name="Jonathan", last_name="Smith", date_of_birth=DOB)

    output = propose("--dry-run")

    assert not LinkProposal.objects.exists()
    assert not ProposeLinksRun.objects.exists()
    assert "Dry run: would have matched" in output
    assert "1 IntakeQ pairs" in output


def test_propose_links_shows_progress_and_records_where_the_next_run_starts():
    PatientCanonicalFactory.create_batch(3)
    IntakeQPatientFactory()

    output = propose("--batch-size", "2")

    assert "canonical: 2/3" in output and "canonical: 3/3" in output
    assert ProposeLinksRun.objects.get().intakeq_until is not None


def test_a_second_run_matches_only_intakeq_rows_added_since():
    IntakeQPatientFactory()
    propose()

    output = propose()

    assert "IntakeQ:" not in output


def test_propose_links_refuses_a_bad_batch_size_in_one_sentence():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="at least 1"):
        propose("--batch-size", "0")


# --- phone and email -----------------------------------------------------------------------


def _score(first, last, dob, record, **contact):
    found = matching.score_people(
        first_name=first, last_name=last, date_of_birth=dob, records=[record], **contact
    )
    return found[0] if found else None


def _iq(first, last, dob, phone=None, email=None):
    return PersonRecord("intakeq", 1, first, last, dob, phone=phone, email=email)


def test_same_phone_raises_a_strong_match_with_its_reason():
    plain = _score("Jon", "Smith", DOB, _iq("Jonathan", "Smith", DOB, phone="801-555-0100"))
    with_phone = _score(
        "Jon", "Smith", DOB, _iq("Jonathan", "Smith", DOB, phone="(801) 555-0100"),
        phone="+1 801 555 0100",
    )  # fmt: skip

    assert with_phone.score > plain.score
    assert "same_phone" in with_phone.reasons


def test_same_email_raises_a_strong_match_with_its_reason():
    with_email = _score(
        "Jon", "Smith", DOB, _iq("Jonathan", "Smith", DOB, email="JS@example.com "),
        email="js@example.com",
    )  # fmt: skip

    assert with_email.score > Decimal("0.95")
    assert "same_email" in with_email.reasons


def test_a_different_phone_lowers_the_score_only_a_little():
    differs = _score(
        "Ana", "Reyes", DOB, _iq("Ana", "Reyes", DOB, phone="8015550100"), phone="8015550199"
    )

    assert Decimal("0.95") <= differs.score < Decimal("1.00")
    assert "phone_differs" in differs.reasons


@pytest.mark.parametrize(
    ("query", "record"),
    [
        (("Eric", "Lopez", DOB), ("Erica", "Lopez", DOB)),  # twins
        (("Mark", "Lopez", DOB), ("Mark", "Lopez", DOB.replace(year=DOB.year - 30))),  # father
    ],
)
def test_a_shared_household_phone_never_lifts_twins_or_father_and_son(query, record):
    without = _score(*query, _iq(*record))
    shared = _score(*query, _iq(*record, phone="8015550100", email="home@example.com"),
                    phone="8015550100", email="home@example.com")  # fmt: skip

    assert shared.score == without.score
    assert shared.score < matching.review_min_score()


def test_find_candidates_weighs_the_cm_records_phone():
    cm = PatientCMFactory(phone="(801) 555-0111")
    person = cm.canonical_patient

    found = find_candidates(
        first_name=person.first_name,
        last_name=person.last_name,
        date_of_birth=person.date_of_birth,
        phone="801 555 0111",
    )

    assert "same_phone" in found[0].reasons


# --- the faster matcher gives the old results ----------------------------------------------

# Names whose strong matches a cheap key would miss: another first letter that sounds the same
# (Phillips/Filips, Knight/Night), a typo in the first letter, a part gained or lost, spaces.
HARD_LASTS = [
    "Smith", "Smyth", "Garcia Lopez", "Lopez", "Nguyen", "Ng", "O'Brien", "Obrien", "Phillips",
    "Filips", "Knight", "Night", "Wright", "Right", "Schmidt", "Shmidt", "Xavier", "Zavier",
    "Kowalski", "Cowalski", "Mc Donald", "Macdonald", "De La Cruz", "Delacruz", "Lee", "Li",
]  # fmt: skip


def _matcher_population(rng):
    """Canonical and IntakeQ people on a handful of dates, names drawn from hard pairs, some
    written swapped, some merged away, some IntakeQ rows the old CM app wrote or without a date."""
    firsts = [name.capitalize() for name in sorted(known_given_names())[:300]]
    firsts += ["Mary Ann", "Maryann", "Jon", "Jonathan", "Bob", "Robert", "Catherine", "Katherine"]
    days = [DOB + datetime.timedelta(days=d) for d in (0, 1, 10, 30, 31, 365)]
    days += [datetime.date(1988, 12, 4), datetime.date(1998, 4, 12), datetime.date(1961, 2, 3)]
    people = []
    for index in range(160):
        first, last, dob = rng.choice(firsts), rng.choice(HARD_LASTS), rng.choice(days)
        people.append((first, last, dob))
        # One in ten written the wrong way round, as a form filled in reverse is.
        stored = (last, first) if index % 10 == 0 else (first, last)
        canonical = PatientCanonicalFactory(
            first_name=stored[0], last_name=stored[1], date_of_birth=dob
        )
        if index % 25 == 0:
            PatientCMFactory(canonical_patient=canonical, phone="801 555 0111")
        if index % 40 == 1:
            kept = PatientCanonicalFactory(
                first_name=first, last_name=last + "e", date_of_birth=dob
            )
            PatientCanonical.objects.filter(pk=canonical.pk).update(merged_into=kept)
        IntakeQPatientFactory(
            first_name=rng.choice(firsts),
            last_name=rng.choice(HARD_LASTS),
            date_of_birth=None if index % 30 == 0 else dob,
            # The old CM app's rows: no client id (NULL is not unique), never candidates.
            intakeq_client_id=None if index % 20 == 0 else f"IQ-{index}",
        )
    return people


def _typed_differently(rng, first, last, dob):
    """What staff may type for this person: swapped, a letter off, a sound-alike, a date slip."""
    return rng.choice(
        [
            (last, first, dob),
            ("X" + first[1:], last, dob),
            (first, "Ph" + last[1:], dob),
            (first, last[:-1], dob + datetime.timedelta(days=1)),
            (first.upper() + " ", last.lower(), dob.replace(year=dob.year - 9)),
        ]
    )


def test_the_gated_matcher_finds_the_same_candidates_and_scores_as_scoring_everything():
    """One statement and a gate give exactly what the code before them gave: the two ORM
    blocking queries with every record scored (bench/before.py), phone and email included."""
    from bench.before import score_every_record

    rng = random.Random(13)  # noqa: S311 - synthetic data
    people = _matcher_population(rng)
    samples = people[:60] + [_typed_differently(rng, *person) for person in people[60:120]]
    samples += [("Jon", "Smith", DOB), ("Bob", "Garcia", DOB), ("Lopez", "Garcia", DOB)]

    compared = 0
    for index, (first, last, dob) in enumerate(samples):
        contact = {"phone": "801 555 0111", "email": "x@example.com"} if index % 3 == 0 else {}
        new = sorted(
            (c.source, str(c.pk), c.score, c.reasons)
            for c in find_candidates(
                first_name=first, last_name=last, date_of_birth=dob, limit=999, **contact
            )
        )
        assert new == score_every_record(
            first_name=first, last_name=last, date_of_birth=dob, **contact
        ), (first, last, dob)
        compared += len(new)
    assert compared > len(samples)  # the sample does find people, it is not vacuous


@pytest.mark.django_db(databases=[])
def test_the_gate_finds_exactly_the_last_names_the_scorer_rates_strong():
    """The gate's vectorized test equals compare_names' own verdict on every pair of a
    vocabulary of hard names (sound-alikes with another first letter, typos, parts, spaces)."""
    vocabulary = [normalize_name(name) for name in HARD_LASTS]
    vocabulary += sorted(known_given_names())[::20] + ["mary ann", "maryann", "st john", "stjohn"]

    for query_last in vocabulary:
        expected = {
            index
            for index, name in enumerate(vocabulary)
            if compare_names(query_last, name, given_name=False).score >= STRONG
            or last_name_tokens_overlap(query_last, name)
        }
        assert matching._strong_against(query_last, vocabulary) == expected, query_last


@pytest.mark.django_db(databases=[])
def test_the_gate_finds_the_spaced_names_and_compacts_them_like_one_name_at_a_time():
    """The gate finds names with a space, and takes them out, on the names joined (in C); on
    random lists of words, spaces and empty names it agrees with doing it name by name."""
    rng = random.Random(13)
    for _ in range(2000):
        choices = [
            "".join(rng.choice("ab ") for _ in range(rng.randint(0, 4)))
            for _ in range(rng.randint(1, 8))
        ]
        assert matching._spaced(choices) == [i for i, c in enumerate(choices) if " " in c]
        assert matching._compacted(choices) == [c.replace(" ", "") for c in choices]
        assert matching._positions(choices, "a") == [i for i, c in enumerate(choices) if c == "a"]


def test_scenario_1_a_new_person_despite_candidates_queues_the_pairs():
    from cm_program.services import cm_patient_enroll_new
    from tests.factories import ContingencyManagementFactory, CPSSFactory

    existing = PatientCanonicalFactory(
        first_name="Jessica", last_name="Martinez", date_of_birth=DOB
    )
    IntakeQPatientFactory(first_name="Jessica", last_name="Martinez", date_of_birth=DOB)
    shown = find_candidates(first_name="Jess", last_name="Martinez", date_of_birth=DOB)
    cpss = CPSSFactory()

    result = cm_patient_enroll_new(
        actor=cpss.user,
        first_name="Jess",
        last_name="Martinez",
        date_of_birth=DOB,
        cm_data={},
        cm_program=ContingencyManagementFactory(),
        cpss_provider=cpss,
        declined_candidates=shown,
    )

    new = result.enrollment.canonical_patient
    assert LinkProposal.objects.get().canonical_patient == new
    duplicate = DuplicateProposal.objects.get()
    assert {duplicate.first_id, duplicate.second_id} == {new.pk, existing.pk}
