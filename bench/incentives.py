"""The incentives rows of the benchmark: recording a test, incentives_check, the CPSS day page.

Builds its own load first: a published schedule, an opening balance per enrollment (their
synthetic points, as the legacy migration would carry them over) and about 100 ledger entries
per CM patient (1,000,000 at the default size) with their visits and tests. The rows are
computed by the same replay the services use (``incentives.history``) and written with COPY,
so ``incentives_check`` must pass on them, and after the measured writes too.
"""

import datetime
import json
import random
import time
import uuid
from io import StringIO

from django.db import connection, transaction
from django.utils import timezone

from bench.data import Size
from bench.measure import ERROR, Row, ms, percentile, unavailable

KEYS = [
    ("incentives.record_p50_ms", "record a drug test: p50", "ms"),
    ("incentives.record_p95_ms", "record a drug test: p95", "ms"),
    ("incentives.check_seconds", "incentives_check over the ledger", "s"),
    ("incentives.day_page_p50_ms", "CPSS day page: p50", "ms"),
    ("incentives.day_page_p95_ms", "CPSS day page: p95", "ms"),
]
ENTRIES_PER_CM_PATIENT = 100
# A year of visits, no cap: every enrollment's arithmetic stays its own (the cap across a
# person's enrollments is covered by the tests, not timed here).
BENCH_SCHEDULE = {
    "name": "Bench schedule",
    "weeks": [{"first_week": 1, "last_week": 52, "tests_per_week": 2}],
    "base_points": 20,
    "step_points": 3,
    "max_points": 53,
    "recovery_after": 2,
}
OUTCOMES = ["negative"] * 16 + ["positive", "positive", "missed", "excused", "invalid"]


def _copy(table: str, columns: list[str], rows) -> None:
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def build(size: Size, actor) -> dict:
    """Plans, visits, tests and ledger entries for every enrollment; returns row counts."""
    from cm_program.models import Enrollment
    from incentives.history import History, VisitOutcome, replay_history
    from incentives.schedules import schedule_create, schedule_publish
    from incentives.services import opening_balances_record

    schedule = schedule_publish(
        schedule=schedule_create(actor=actor, **BENCH_SCHEDULE), actor=actor
    )
    ids = list(Enrollment.objects.order_by("pk").values_list("pk", flat=True))
    opening_balances_record(enrollment_ids=ids, reason="bench")
    per_enrollment = max(1, min(100, ENTRIES_PER_CM_PATIENT * size.cm // max(len(ids), 1)))
    slots = [(w, s) for w in range(1, 53) for s in (1, 2)]
    rng = random.Random(14)
    counts = {"visits": 0, "tests": 0, "ledger": 0}
    openings = _openings()
    today = timezone.localdate()
    superuser = _is_superuser()
    rows = Enrollment.objects.order_by("pk").values_list("pk", "enrollment_date")
    for start in range(0, len(ids), 1000):
        plans, visits, tests, entries, totals = [], [], [], [], []
        for pk, enrolled in rows[start : start + 1000]:
            # Recorded visits lie in the past and the first open one falls due about now, as in
            # a clinic that keeps up (about one overdue or due-today visit per participant).
            first_day = max(
                timezone.localdate(enrolled),
                today - datetime.timedelta(days=per_enrollment * 7 // 2 + rng.randrange(3)),
            )
            plans.append((str(uuid.uuid4()), pk, schedule.pk, first_day))
            points, level, streak = openings.get(pk, (0, 0, 0))
            history = History(pk, None, schedule, points, level, streak, first_day)
            for number, (week, slot) in enumerate(slots):
                due = first_day + datetime.timedelta(days=7 * (week - 1) + 3 * (slot - 1))
                visit_id = str(uuid.uuid4())
                outcome = rng.choice(OUTCOMES) if number < per_enrollment else None
                status = {None: "planned", "missed": "missed", "excused": "excused"}.get(
                    outcome, "attended"
                )
                visits.append((visit_id, pk, schedule.pk, week, slot, due, status,
                               "bench" if status == "excused" else ""))  # fmt: skip
                test_id = None
                if status == "attended":
                    test_id = str(uuid.uuid4())
                    collected = timezone.make_aware(
                        datetime.datetime.combine(due, datetime.time(10))
                    )
                    tests.append((test_id, pk, visit_id, collected, outcome))
                if outcome:
                    history.visits.append(VisitOutcome(visit_id, week, slot, outcome, due, test_id))
            replayed = replay_history(history)
            totals.append((pk, replayed.total_points, replayed.streak))
            for priced in replayed.priced:
                award, visit = priced.award, priced.visit
                entries.append((str(uuid.uuid4()), pk, "earned", "earned", award.points,
                                visit.occurred_on, visit.visit_id, visit.test_id, schedule.pk,
                                award.level_before, award.level, award.streak_before,
                                award.streak, json.dumps({"words": award.explain()})))  # fmt: skip
        with transaction.atomic(), connection.cursor() as cursor:
            if superuser:
                # The audit triggers would double every row; this load is not anyone's history.
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                "UPDATE cm_enrollments e SET total_points = v.p, current_streak = v.s"
                " FROM unnest(%s::uuid[], %s::int[], %s::int[]) AS v(id, p, s) WHERE e.id = v.id",
                [list(column) for column in zip(*totals, strict=True)],
            )
            _copy("cm_incentive_plans", ["id", "enrollment_id", "schedule_id", "start_date"], plans)
            _copy("cm_incentive_visits", ["id", "enrollment_id", "schedule_id", "week", "slot",
                                          "due_date", "status", "reason"], visits)  # fmt: skip
            _copy("cm_drug_tests", ["id", "enrollment_id", "visit_id", "collected_at", "result"],
                  tests)  # fmt: skip
            _copy("cm_incentive_ledger", ["id", "enrollment_id", "kind", "account", "points",
                                          "occurred_on", "visit_id", "drug_test_id", "schedule_id",
                                          "level_before", "level_after", "streak_before",
                                          "streak_after", "trace"], entries)  # fmt: skip
        counts["visits"] += len(visits)
        counts["tests"] += len(tests)
        counts["ledger"] += len(entries)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM cm_incentive_ledger")
        counts["ledger"] = cursor.fetchone()[0]
    return counts


def _is_superuser() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        return bool(cursor.fetchone()[0])


def _openings() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT enrollment_id, points, level_after, streak_after FROM cm_incentive_ledger"
            " WHERE kind = 'opening_balance'"
        )
        return {pk: (points, level, streak) for pk, points, level, streak in cursor.fetchall()}


def _bench_user(group: str, provider_id=None):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, _ = get_user_model().objects.get_or_create(username=f"bench-{group.lower()}")
    user.groups.add(Group.objects.get(name=group))
    if provider_id is not None:
        from providers.models import ProviderCM

        ProviderCM.objects.filter(pk=provider_id).update(user=user)
    return user


def _open_visits(count: int, rng: random.Random) -> list:
    """(enrollment id, visit id) of active enrollments' next open visits, one per enrollment."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT ON (v.enrollment_id) v.enrollment_id, v.id"
            " FROM cm_incentive_visits v JOIN cm_enrollments e ON e.id = v.enrollment_id"
            " WHERE v.status = 'planned' AND e.status = 'active'"
            " ORDER BY v.enrollment_id, v.week, v.slot"
        )
        rows = cursor.fetchall()
    return rng.sample(rows, min(count, len(rows)))


def plain_insert(argument) -> None:
    """The baseline: the same rows (a test, a ledger entry, the enrollment's points) by INSERT."""
    enrollment_id, _ = argument
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cm_drug_tests (enrollment_id, collected_at, result)"
            " VALUES (%s, now(), 'negative') RETURNING id",
            [enrollment_id],
        )
        test_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO cm_incentive_ledger (enrollment_id, kind, account, points, occurred_on,"
            " drug_test_id) VALUES (%s, 'earned', 'earned', 0, current_date, %s)",
            [enrollment_id, test_id],
        )
        cursor.execute(
            "UPDATE cm_enrollments SET total_points = total_points WHERE id = %s",
            [enrollment_id],
        )


def measure(size: Size, rng: random.Random) -> list[Row]:
    from django.core.management import CommandError, call_command, get_commands

    from incentives import services
    from incentives.models import ScheduledVisit

    if "incentives_check" not in get_commands():
        return unavailable(KEYS, "the incentives app is not in this build")
    actor = _bench_user("Admin")
    start = time.perf_counter()
    counts = build(size, actor)
    built = f"load built in {time.perf_counter() - start:.0f} s: {counts}"

    samples = _open_visits(2 * size.samples, rng)
    ours_args, base_args = samples[0::2], samples[1::2]
    ours, base = [], []
    for (_, visit_id), base_arg in zip(ours_args, base_args, strict=False):
        visit = ScheduledVisit.objects.select_related("enrollment").get(pk=visit_id)
        began = time.perf_counter()
        services.drug_test_record(enrollment=visit.enrollment, actor=actor, visit=visit,
                                  collected_at=timezone.now(), result="negative")  # fmt: skip
        ours.append(time.perf_counter() - began)
        began = time.perf_counter()
        plain_insert(base_arg)
        base.append(time.perf_counter() - began)

    began = time.perf_counter()
    try:
        call_command("incentives_check", stdout=StringIO(), stderr=StringIO())
        check_status, check_note = None, f"passed over {counts['ledger']:,} entries"
    except CommandError as exc:
        check_status, check_note = ERROR, f"incentives_check failed: {exc}"
    check_seconds = time.perf_counter() - began
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT enrollment_id, sum(points) FROM cm_incentive_ledger GROUP BY 1")
        cursor.fetchall()
    sum_seconds = time.perf_counter() - began

    day_ours, day_base = _day_page(size, rng)
    note = f"{len(ours)} tests on random active enrollments; baseline: plain INSERTs. {built}"
    rows = [
        Row(*KEYS[0], ours=ms(percentile(ours, 50)), baseline=ms(percentile(base, 50)), note=note),
        Row(*KEYS[1], ours=ms(percentile(ours, 95)), baseline=ms(percentile(base, 95)), note=note),
        Row(*KEYS[2], ours=round(check_seconds, 3), baseline=round(sum_seconds, 3),
            note=f"{check_note}; baseline: one GROUP BY of the ledger; target < 60 s"),
        Row(*KEYS[3], ours=ms(percentile(day_ours, 50)), baseline=ms(percentile(day_base, 50)),
            note="baseline: the page's visits query alone; target p95 < 100 ms"),
        Row(*KEYS[4], ours=ms(percentile(day_ours, 95)), baseline=ms(percentile(day_base, 95)),
            note="baseline: the page's visits query alone; target p95 < 100 ms"),
    ]  # fmt: skip
    if check_status:
        rows[2].status = check_status
    return rows


def _day_page(size: Size, rng: random.Random) -> tuple[list, list]:
    from django.test import Client
    from django.urls import reverse

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT cpss_provider_id FROM cm_enrollments WHERE status = 'active'"
            " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        )
        provider_id = cursor.fetchone()[0]
    user = _bench_user("CPSS", provider_id)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    url = reverse("incentives:day")
    ours, base = [], []
    for _ in range(size.samples):
        began = time.perf_counter()
        response = client.get(url)
        ours.append(time.perf_counter() - began)
        assert response.status_code == 200, response.status_code
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT v.id, v.week, v.slot, v.due_date, p.first_name, p.last_name"
                " FROM cm_incentive_visits v JOIN cm_enrollments e ON e.id = v.enrollment_id"
                " JOIN patients_canonical p ON p.id = e.canonical_patient_id"
                " JOIN providers_cm c ON c.id = e.cpss_provider_id"
                " WHERE c.user_id = %s AND v.status = 'planned' AND e.status = 'active'"
                " AND v.due_date <= current_date ORDER BY v.due_date LIMIT 500",
                [user.pk],
            )
            cursor.fetchall()
        base.append(time.perf_counter() - began)
    return ours, base
