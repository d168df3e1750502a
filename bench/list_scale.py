"""The CM patient list for one client, next to the page as it was (bench.list_before), at the
built size and again with the program grown towards 100,000 enrollments.

In-process (Django's test client, every middleware, a supervisor who sees everyone), one request
at a time, alternating which page goes first. The growth is written inside a transaction that is
rolled back, so the steps after this one see the data as built.
"""

from django.db import connection, transaction
from django.urls import NoReverseMatch, reverse

from bench.data import Size, cpss_count, execute, insert_cm_people
from bench.http_load import supervisor_client
from bench.measure import Row, ms, percentile, timed_calls, unavailable

GROWN_ENROLLMENTS = 100_000
MAX_SAMPLES = 60  # today's page is slow at 100,000 enrollments; keep the step short


def enrollment_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cm_enrollments")
        return cursor.fetchone()[0]


def _measure(client, urls: dict, samples: int) -> dict:
    for name, url in urls.items():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{name} page {url} answered {response.status_code}")
    latencies, _ = timed_calls(
        {name: (lambda _, url=url: client.get(url)) for name, url in urls.items()},
        list(range(samples)),
    )
    return latencies


def _rows(key: str, enrollments: int, latencies: dict, note: str) -> list[Row]:
    label = f"CM patient list, one client, {enrollments:,} enrollments"
    return [
        Row(f"{key}_p{pct}_ms", f"{label}: p{pct}", "ms",
            ours=ms(percentile(latencies["ours"], pct)),
            baseline=ms(percentile(latencies["baseline"], pct)), note=note)
        for pct in (50, 95)
    ]  # fmt: skip


def measure_list_scale(size: Size) -> list[Row]:
    keys = [
        (f"patient_list.{scale}_p{pct}_ms", f"CM patient list, one client, {scale}: p{pct}", "ms")
        for scale in ("built", "grown")
        for pct in (50, 95)
    ]
    try:
        urls = {
            "ours": reverse("cm:patient-list"),
            "baseline": reverse("bench-patient-list-before"),
        }
    except NoReverseMatch:
        return unavailable(keys, "the cm:patient-list page is not in this build")
    samples = min(size.samples // 3, MAX_SAMPLES)  # 10 at the small size, a check run
    note = (
        f"{samples} requests a page, in-process, as a supervisor; ours: the page's first screen "
        "(25 rows, sorted by name); baseline: the page as it was at e5374e5 (bench.list_before)"
    )
    client = supervisor_client(username="bench-list-supervisor")
    built = enrollment_count()
    rows = _rows("patient_list.built", built, _measure(client, urls, samples), note)
    with transaction.atomic():
        extra = max(0, min(size.canonical - size.cm, GROWN_ENROLLMENTS - built))
        insert_cm_people(size.cm, size.cm + extra, cpss_count(size), second_programs=False)
        execute("ANALYZE patients_cm")
        execute("ANALYZE cm_enrollments")
        grown = enrollment_count()
        rows += _rows("patient_list.grown", grown, _measure(client, urls, samples), note)
        transaction.set_rollback(True)  # the later steps read the data as built
    return rows
