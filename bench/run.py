"""`python -m bench [--size small|default]`: build the data, measure, print and save the table.

The benchmark's database (``cm_bench_<size>`` by default) is created afresh on the project's
server (DATABASE_URL or the embedded PostgreSQL), migrated, filled, measured and dropped at the
end, even when a measurement fails (``--keep-db`` keeps it for a look).
"""

import argparse
import datetime
import json
import os
import platform
import random
import re
import sys
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def parse_args(argv):
    from bench.data import SIZES

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="default")
    parser.add_argument("--db-name", help="database to create and drop (default cm_bench_<size>)")
    parser.add_argument(
        "--json", type=Path, help="where to write the JSON (default bench/results/)"
    )
    parser.add_argument(
        "--keep-db", action="store_true", help="do not drop the database at the end"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed for the sampled patients")
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        help=f"comma-separated subset of: {', '.join(STEPS)}",
    )
    args = parser.parse_args(argv)
    args.db_name = args.db_name or f"cm_bench_{args.size}"
    if args.only and args.only - set(STEPS):
        parser.error(f"--only takes some of: {', '.join(STEPS)}")
    if not DB_NAME.match(args.db_name):
        parser.error("--db-name must be a plain lower-case identifier, e.g. cm_bench_small")
    return args


def server_connection(database: dict):
    """An autocommit connection to the server's maintenance database, to create and drop ours."""
    import psycopg

    return psycopg.connect(
        dbname="postgres",
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
        user=database.get("USER") or None,
        password=database.get("PASSWORD") or None,
        autocommit=True,
    )


def recreate_database(database: dict, name: str) -> None:
    with server_connection(database) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(database: dict, name: str) -> None:
    with server_connection(database) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def machine() -> dict:
    from django.db import connection

    cpu = ""
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if "model name" in line), "")
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as info:
            kib = int(next(line.split()[1] for line in info if line.startswith("MemTotal")))
            memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return {
        "nproc": os.cpu_count(),
        "memory": memory,
        "cpu": cpu,
        "python": platform.python_version(),
        "postgresql": postgres,
        "platform": platform.platform(),
    }


def fmt(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "queries":
        return str(int(value))
    return f"{value:,.2f}" if value < 1000 else f"{value:,.0f}"


def table(rows: list[dict]) -> str:
    header = ["operation", "ours", "baseline", "ratio"]
    lines = []
    for row in rows:
        unit = row["unit"]
        if row["status"] != "ok":
            lines.append([f"{row['operation']} ({unit})", row["status"], fmt(row["baseline"], unit),
                          "—"])  # fmt: skip
            continue
        ratio = "—" if row["ratio"] is None else f"{row['ratio']:.2f}"
        lines.append([f"{row['operation']} ({unit})", fmt(row["ours"], unit),
                      fmt(row["baseline"], unit), ratio])  # fmt: skip
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(4)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in lines:
        cells = [line[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


# In this order: migrate_cm_legacy last, as it empties the new tables the others read.
STEPS = [
    "patient_view",
    "patient_list",
    "find_candidates",
    "find_or_create",
    "incentives",
    "migrate_cm_legacy",
]


def measure_all(size, legacy_built: bool, seed: int, only: set | None) -> list:
    from bench import http_load, incentives, list_scale, measure

    rng = random.Random(seed)
    steps = {
        "patient_view": lambda: measure.measure_patient_view(size, rng),
        "patient_list": lambda: (
            http_load.measure_patient_list(size) + list_scale.measure_list_scale(size)
        ),
        "find_candidates": lambda: measure.measure_matcher(size, rng),
        "find_or_create": lambda: measure.measure_find_or_create(size, rng),
        "incentives": lambda: incentives.measure(size, rng),
        "migrate_cm_legacy": lambda: measure.measure_migration(size, legacy_built),
    }
    rows = []
    for label in STEPS:
        if only and label not in only:
            continue
        step = steps[label]
        start = time.perf_counter()
        print(f"  measuring {label} ...", flush=True)
        rows.extend(step())
        print(f"    done in {time.perf_counter() - start:.1f} s", flush=True)
    return rows


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ["BENCH_DB_NAME"] = args.db_name
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django
    from django.conf import settings

    from bench.data import SIZES

    size = SIZES[args.size]
    database = dict(settings.DATABASES["default"])
    started = time.perf_counter()
    print(f"bench: size {args.size}, database {args.db_name}", flush=True)
    recreate_database(database, args.db_name)
    try:
        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from bench import data

        call_command("migrate", verbosity=0, interactive=False)
        build_start = time.perf_counter()
        counts = data.build(size)
        print(f"  built {counts} in {time.perf_counter() - build_start:.1f} s", flush=True)
        legacy_built = "cm_patients" in counts
        rows = [row.as_dict() for row in measure_all(size, legacy_built, args.seed, args.only)]
        result = {
            "size": args.size,
            "sizes": size.__dict__,
            "rows_built": counts,
            "finished_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 1),
            "machine": machine(),
            "ratio": "ours / baseline",
            "operations": rows,
        }
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if not args.keep_db:
            drop_database(database, args.db_name)

    path = args.json or RESULTS_DIR / f"{args.size}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print()
    print(table(rows))
    print()
    print("ratio = ours / baseline: for queries and latency lower is better, for ops/s higher.")
    print(f"Machine: {result['machine']}")
    print(f"JSON: {path}  ({result['seconds']} s in all)")
    return 1 if any(row["status"] == "error" for row in rows) else 0
