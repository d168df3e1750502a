"""Time find_candidates against a synthetic population, inside a transaction that is rolled back.

    DEBUG=true python manage.py measure_matching --canonical 100000 --intakeq 100000 --lookups 300

Nothing it writes survives: the rows are made, analysed, queried and rolled back. It refuses to
run with DEBUG off, so it never loads 200k rows into a production database by accident. The
timing is reported, never asserted (the benchmark suite owns pass/fail on speed).
"""

import datetime
import random
import statistics
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from identity.matching import find_candidates
from identity.models import PatientCanonical
from identity.names import known_given_names
from intakeq_link.models import IntakeQPatient

_SYLLABLES = ["ba", "ker", "son", "mar", "tin", "ez", "lo", "pez", "wil", "li", "ams", "ro",
              "dri", "guez", "chen", "ng", "uy", "en", "ha", "ll", "jo", "nes", "ta", "yl",
              "or", "mo", "re", "no", "ga", "ci", "a", "ow", "ens", "kim", "par", "ke"]  # fmt: skip
_BATCH = 5000


def _last_name(rng):
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def _date(rng):
    start = datetime.date(1940, 1, 1).toordinal()
    return datetime.date.fromordinal(rng.randint(start, datetime.date(2008, 12, 31).toordinal()))


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Measure identity matching latency on a synthetic population (rolled back afterwards)."

    def add_arguments(self, parser):
        parser.add_argument("--canonical", type=int, default=100_000)
        parser.add_argument("--intakeq", type=int, default=100_000)
        parser.add_argument("--lookups", type=int, default=300)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--dry-run", action="store_true", help="Say what would run; no rows.")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("measure_matching loads synthetic rows and runs only with DEBUG on.")
        sizes = (options["canonical"], options["intakeq"], options["lookups"])
        if min(sizes) < 1:
            raise CommandError("--canonical, --intakeq and --lookups must be at least 1.")
        self.stdout.write(
            f"{sizes[0]} canonical + {sizes[1]} IntakeQ rows, {sizes[2]} lookups, rolled back."
        )
        if options["dry_run"]:
            return
        try:
            with transaction.atomic():
                self._measure(random.Random(options["seed"]), *sizes)  # noqa: S311 - synthetic data
                raise _Rollback
        except _Rollback:
            self.stdout.write("Rolled back: nothing was kept.")

    def _measure(self, rng, n_canonical, n_intakeq, n_lookups):
        firsts = sorted(known_given_names())
        people = []
        for table, count, make in (
            ("patients_canonical", n_canonical, self._canonical),
            ("patients", n_intakeq, self._intakeq),
        ):
            for start in range(0, count, _BATCH):
                rows = [make(rng, firsts, start + i) for i in range(min(_BATCH, count - start))]
                people.extend((r.first_name, r.last_name, r.date_of_birth) for r in rows[:20])
                type(rows[0]).objects.bulk_create(rows, ignore_conflicts=True)
                self.stdout.write(f"  {table}: {start + len(rows)}/{count}")
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {table}")  # noqa: S608 - fixed table names above

        queries = [rng.choice(people) for _ in range(n_lookups)]
        find_candidates(first_name="Warm", last_name="Up", date_of_birth=datetime.date(1980, 1, 1))
        timings, found = [], 0
        for first, last, dob in queries:
            began = time.perf_counter()
            candidates = find_candidates(first_name=first, last_name=last, date_of_birth=dob)
            timings.append((time.perf_counter() - began) * 1000)
            found += bool(candidates)
        timings.sort()
        p95 = timings[max(0, round(len(timings) * 0.95) - 1)]
        self.stdout.write(
            f"find_candidates, {len(timings)} lookups: mean {statistics.fmean(timings):.1f} ms, "
            f"median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, "
            f"max {timings[-1]:.1f} ms; {found} found their person."
        )

    @staticmethod
    def _canonical(rng, firsts, i):
        return PatientCanonical(
            first_name=rng.choice(firsts).capitalize(),
            last_name=f"{_last_name(rng)}",
            date_of_birth=_date(rng),
        )

    @staticmethod
    def _intakeq(rng, firsts, i):
        return IntakeQPatient(
            intakeq_client_id=f"SYN-{i}",
            first_name=rng.choice(firsts).capitalize(),
            last_name=_last_name(rng),
            date_of_birth=_date(rng),
        )
