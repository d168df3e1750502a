"""Synthetic clinic data, written with set-based SQL (generate_series), never row by row.

Every id is derived from a row number (``md5('<kind>' || n)::uuid``), so the builders can refer
to each other's rows without lookups, and a run is reproducible.
All names are made up from syllables; none is a real patient.
"""

from dataclasses import dataclass
from pathlib import Path

from django.db import connection

REPO_ROOT = Path(__file__).resolve().parent.parent
# The legacy tables' contract, as the tests keep it (tests/fixtures/legacy_schema.sql).
LEGACY_SCHEMA_PATHS = [REPO_ROOT / "tests" / "fixtures" / "legacy_schema.sql"]

PROGRAMS = ["Stimulant CM", "Opioid CM", "Alcohol CM"]

FIRST_NAMES = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Christopher", "Karen", "Charles", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony",
    "Sandra", "Mark", "Margaret", "Donald", "Ashley", "Steven", "Kimberly", "Andrew", "Emily",
    "Paul", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda", "Brian",
    "Melissa", "George", "Deborah", "Timothy", "Stephanie", "Ronald", "Rebecca", "Jason", "Sharon",
    "Edward", "Laura", "Jeffrey", "Cynthia", "Ryan", "Dorothy", "Jacob", "Amy", "Gary", "Kathleen",
    "Nicholas", "Angela", "Eric", "Shirley", "Jonathan", "Emma", "Stephen", "Brenda", "Larry",
    "Pamela", "Justin", "Nicole", "Scott", "Anna", "Brandon", "Samantha", "Benjamin", "Katherine",
    "Samuel", "Christine", "Gregory", "Debra", "Alexander", "Rachel", "Patrick", "Carolyn",
    "Frank", "Janet", "Raymond", "Maria", "Jack", "Olivia", "Dennis", "Heather", "Jerry", "Helen",
    "Tyler", "Catherine", "Aaron", "Diane", "Jose", "Julie", "Adam", "Victoria", "Nathan", "Joyce",
    "Henry", "Lauren", "Zachary", "Kelly", "Douglas", "Christina", "Peter", "Ruth", "Kyle", "Joan",
    "Noah", "Virginia", "Ethan", "Judith", "Jeremy", "Evelyn", "Christian", "Hannah", "Walter",
    "Andrea", "Keith", "Megan", "Austin", "Cheryl", "Roger", "Jacqueline", "Terry", "Madison",
    "Sean", "Teresa", "Gerald", "Abigail", "Carl", "Sophia", "Dylan", "Martha", "Harold", "Sara",
    "Jordan", "Gloria", "Jesse", "Janice", "Bryan", "Kathryn", "Lawrence", "Ann", "Arthur",
    "Isabella", "Gabriel", "Judy", "Bruce", "Charlotte", "Logan", "Julia", "Billy", "Grace",
    "Joe", "Amber", "Alan", "Alice", "Juan", "Jean", "Elijah", "Denise", "Willie", "Frances",
    "Albert", "Danielle", "Wayne", "Marilyn", "Randy", "Natalie", "Mason", "Beverly", "Vincent",
    "Diana", "Liam", "Brittany", "Roy", "Theresa", "Bobby", "Kayla", "Caleb", "Alexis", "Bradley",
    "Doris", "Russell", "Lori", "Lucas", "Tiffany", "Zoë", "José", "D'Angelo", "Mary-Kate",
]  # fmt: skip
SURNAME_HEADS = [
    "Har", "Mor", "Gar", "Lin", "Wil", "And", "Ben", "Cal", "Dal", "Ell", "Fer", "Gal", "Hol",
    "Jen", "Kel", "Lam", "Mar", "Nel", "Ort", "Par", "Ram", "San", "Tor", "Val", "Wat", "Bar",
    "Cor", "Dom", "Est", "Fitz", "Gut", "Her", "Ib", "Jack", "Kin", "Lo", "Mc", "Nav", "O'",
    "Pe", "Quin", "Rob", "Ste", "Tur", "Ur", "Vas", "Web", "Yo", "Zam", "St. ",
]  # fmt: skip
SURNAME_TAILS = [
    "son", "ley", "ton", "ez", "man", "ford", "berg", "ins", "ero", "well", "sen", "ano", "ick",
    "wood", "lin", "ard", "ova", "ski", "ner", "by", "den", "cia", "er", "ham", "ida", "vez",
    "ell", "rez", "land", "nez", "stein", "bury", "ries", "es", "ock", "mond", "dez", "worth",
    "ardo", "field", "-López", "-Smith", "ay", "rick", "ers", "ond", "ine", "uel", "ach", "ista",
]  # fmt: skip

# Free-text values the old CM app let through, roughly in the proportions one would expect.
LEGACY_STATUSES = [
    "active", "active", "Active", "ACTIVE", " active", "paused", "Paused", "inactive",
    "discharged", "graduated", "withdrawn", "active",
]  # fmt: skip
LEGACY_SMARTPHONE = ["yes", "Y", "yes", "limited", "no", "true", "No", None, "", "YES"]
LEGACY_SOURCES = ["acute_care", "Outpatient", "referral", "existing_patient", "ER", None]
LEGACY_PROGRAMS = [None, "Stimulant CM", "stimulant cm ", "Opioid CM"]
LANGUAGES = ["English", "English", "Spanish", "english", None]


@dataclass(frozen=True)
class Size:
    canonical: int
    intakeq: int
    cm: int
    legacy: int
    samples: int  # random patients per latency measurement
    http_requests: int  # requests per page under load
    writes: int  # find_or_create calls per worker count


SIZES = {
    "small": Size(canonical=1_000, intakeq=1_000, cm=200, legacy=1_000, samples=30,
                  http_requests=30, writes=200),
    "default": Size(canonical=100_000, intakeq=100_000, cm=10_000, legacy=100_000, samples=300,
                    http_requests=200, writes=2_000),
}  # fmt: skip
SIZES["large"] = SIZES["default"]


def uid(kind: str, n: str) -> str:
    """SQL for the deterministic uuid of row ``n`` (an SQL expression) of kind ``kind``."""
    return f"md5('{kind}:' || ({n}))::uuid"


def first_name(n: str) -> str:
    return f"(%(first)s::text[])[1 + ({n}) % {len(FIRST_NAMES)}]"


def last_name(n: str) -> str:
    heads, tails, firsts = len(SURNAME_HEADS), len(SURNAME_TAILS), len(FIRST_NAMES)
    # Person n's (first, last) pair is unique for n < firsts * heads * tails (500k).
    return (
        f"((%(heads)s::text[])[1 + (({n}) / {firsts}) % {heads}]"
        f" || (%(tails)s::text[])[1 + (({n}) / {firsts * heads}) % {tails}])"
    )


def birth_date(n: str) -> str:
    # 1940-01-01 + up to 70 years, scattered.
    return f"(DATE '1940-01-01' + ((({n})::bigint * 7919) % 25567)::int)"


def pick(array_param: str, size: int, n: str) -> str:
    return f"(%({array_param})s::text[])[1 + ({n}) % {size}]"


NAME_PARAMS = {"first": FIRST_NAMES, "heads": SURNAME_HEADS, "tails": SURNAME_TAILS}

# Person numbers: canonical patients are persons 0..canonical-1; other populations start here.
INTAKEQ_ONLY_PERSON = 1_000_000
LEGACY_ONLY_PERSON = 2_000_000


def intakeq_person(j: str, size: Size) -> str:
    """IntakeQ row j is canonical person 3j for the first 30% of rows, else an EMR-only person."""
    shared = int(size.intakeq * 0.3)
    return (
        f"(CASE WHEN ({j}) < {shared} AND 3 * ({j}) < {size.canonical} THEN 3 * ({j})"
        f" ELSE {INTAKEQ_ONLY_PERSON} + ({j}) END)"
    )


def execute(sql: str, params: dict | None = None) -> None:
    # The builders write modulo as " % "; with parameters, psycopg needs it doubled.
    with connection.cursor() as cursor:
        cursor.execute(sql.replace(" % ", " %% "), {**NAME_PARAMS, **(params or {})})


def legacy_schema_sql() -> str | None:
    for path in LEGACY_SCHEMA_PATHS:
        if path.exists():
            return path.read_text()
    return None


def build(size: Size) -> dict:
    """Fill every table; return the row counts (what was built is what gets reported)."""
    build_project_tables(size)
    legacy = build_legacy_tables(size)
    # As autovacuum leaves a database in use: statistics, and the visibility map set, so
    # index-only scans (the matcher's blocks) read no heap pages for rows no one has changed.
    execute("VACUUM (ANALYZE)")
    # And the load's written pages flushed now, not by a checkpoint spread over the next minutes
    # under the timed requests, each of which waits for its own commit's flush to disk.
    execute("CHECKPOINT")
    counts = {}
    tables = ["patients_canonical", "patients", "patients_cm", "cm_enrollments",
              "patients_intakeq_link", "providers_cm"]  # fmt: skip
    if legacy:
        tables += ["cm_patients", "providers"]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


def cpss_count(size: Size) -> int:
    return max(5, size.cm // 30)


def insert_cm_people(start: int, stop: int, n_cpss: int, *, second_programs: bool = True) -> None:
    """Canonical persons start..stop-1 join the CM program: a CM record and an enrollment each,
    and (``second_programs``) every tenth one a second enrollment in another program."""
    params = {"start": start, "stop": stop}
    execute(
        "INSERT INTO patients_cm (id, canonical_patient_id, phone, email, insurance_primary,"
        " medicaid_id, enrollment_source, consent_date, smartphone_access, emergency_contact_name,"
        " emergency_contact_phone, address_street, address_city, address_zip, preferred_language,"
        " status)"
        f" SELECT {uid('pcm', 'i')}, {uid('canon', 'i')},"
        " '(385) 555-' || lpad((i % 10000)::text, 4, '0'), 'cm' || i || '@mail.example',"
        " CASE WHEN i % 3 = 0 THEN 'Utah Medicaid' ELSE 'Commercial' END,"
        " CASE WHEN i % 3 = 0 THEN lpad(i::text, 10, '0') END,"
        " (ARRAY['acute_care', 'outpatient', 'referral', 'existing_patient'])[1 + i % 4],"
        " now() - (i % 900) * interval '1 day',"
        " (ARRAY['yes', 'yes', 'limited', 'no'])[1 + i % 4],"
        " 'Contact ' || i, '(801) 555-0' || lpad((i % 1000)::text, 3, '0'),"
        " i || ' Main St', 'Salt Lake City', '84' || lpad((i % 1000)::text, 3, '0'),"
        " (ARRAY['English', 'English', 'Spanish'])[1 + i % 3],"
        " (ARRAY['active', 'active', 'active', 'paused', 'graduated', 'withdrawn'])[1 + i % 6]"
        " FROM generate_series(%(start)s, %(stop)s - 1) AS i",
        params,
    )
    enrollment_columns = (
        "INSERT INTO cm_enrollments (id, canonical_patient_id, cm_patient_id, cm_program_id,"
        " cpss_provider_id, total_points, current_streak, enrollment_date, status,"
        " medicaid_verification, pod_assignment, notes)"
    )
    enrollment_values = (
        " {uid_enr}, {uid_canon}, {uid_pcm}, {uid_prog}, {uid_cpss},"
        " (i * 37) % 600, (i * 11) % 20, now() - ((i * 3) % 900) * interval '1 day',"
        " (ARRAY['active', 'active', 'active', 'paused', 'graduated', 'withdrawn'])[1 + i % 6],"
        " CASE WHEN i % 3 = 0 THEN jsonb_build_object('verified', true, 'checked', '2025-01-01')"
        " END, 'Pod ' || chr(65 + i % 6), CASE WHEN i % 5 = 0 THEN 'Synthetic note' END"
    )
    kinds = [("enr", "i % 3", "")]
    if second_programs:
        kinds.append(("enr2", "(i + 1) % 3", " WHERE i % 10 = 9"))
    for prefix, program, where in kinds:
        execute(
            enrollment_columns
            + " SELECT"
            + enrollment_values.format(
                uid_enr=uid(prefix, "i"),
                uid_canon=uid("canon", "i"),
                uid_pcm=uid("pcm", "i"),
                uid_prog=uid("prog", program),
                uid_cpss=uid("cpss", f"i % {n_cpss}"),
            )
            + " FROM generate_series(%(start)s, %(stop)s - 1) AS i"
            + where,
            params,
        )


def build_project_tables(size: Size) -> None:
    n_cpss = cpss_count(size)
    execute(
        "INSERT INTO contingency_management (id, name, description)"
        " SELECT " + uid("prog", "i") + ", (%(programs)s::text[])[i + 1], 'Synthetic program'"
        " FROM generate_series(0, %(n)s - 1) AS i",
        {"programs": PROGRAMS, "n": len(PROGRAMS)},
    )
    execute(
        "INSERT INTO providers_cm (id, first_name, last_name, email, role, credentials, hire_date)"
        f" SELECT {uid('cpss', 'i')}, {first_name('i * 7')}, {last_name('i * 13')},"
        " 'cpss' || i || '@bench.example', 'cpss',"
        " CASE WHEN i % 2 = 0 THEN 'CPSS-I' ELSE 'CPSS-II' END,"
        " DATE '2020-01-01' + (i % 1500)"
        " FROM generate_series(0, %(n)s - 1) AS i",
        {"n": n_cpss},
    )
    # Canonical patients: a few names typed with stray spaces, as staff type them.
    execute(
        "INSERT INTO patients_canonical (id, first_name, last_name, date_of_birth)"
        f" SELECT {uid('canon', 'i')},"
        f" CASE WHEN i % 50 = 7 THEN {first_name('i')} || ' ' ELSE {first_name('i')} END,"
        f" {last_name('i')}, {birth_date('i')}"
        " FROM generate_series(0, %(n)s - 1) AS i",
        {"n": size.canonical},
    )
    # The IntakeQ EMR: some rows upper-cased by the sync, some old ones without a birth date.
    person = intakeq_person("j", size)
    execute(
        "INSERT INTO patients (id, intakeq_client_id, first_name, last_name, date_of_birth,"
        " phone, email, created_at, updated_at)"
        f" SELECT {uid('iq', 'j')}, (100000 + j)::text,"
        f" CASE WHEN j % 20 = 3 THEN upper({first_name(person)}) ELSE {first_name(person)} END,"
        f" CASE WHEN j % 20 = 3 THEN upper({last_name(person)}) ELSE {last_name(person)} END,"
        f" CASE WHEN j % 50 = 11 AND {person} >= {INTAKEQ_ONLY_PERSON} THEN NULL"
        f" ELSE {birth_date(person)} END,"
        " '(801) 555-' || lpad((j % 10000)::text, 4, '0'),"
        " CASE WHEN j % 4 = 0 THEN NULL ELSE 'iq' || j || '@mail.example' END,"
        " now() - (j % 3000) * interval '1 day', now()"
        " FROM generate_series(0, %(n)s - 1) AS j",
        {"n": size.intakeq},
    )
    # CM patients are canonical persons 0..cm-1, each with one enrollment; one in ten has a
    # second enrollment in another program.
    insert_cm_people(0, size.cm, n_cpss)
    # A third of CM patients are also Moonlit psychiatry patients: link them to their chart.
    shared = int(size.intakeq * 0.3)
    execute(
        "INSERT INTO patients_intakeq_link (canonical_patient_id, intakeq_patient_id,"
        " confidence_score)"
        f" SELECT {uid('canon', 'i')}, {uid('iq', 'i / 3')}, 1.00"
        " FROM generate_series(0, %(n)s - 1) AS i WHERE i % 3 = 0 AND i / 3 < %(shared)s",
        {"n": size.cm, "shared": shared},
    )


def build_legacy_tables(size: Size) -> bool:
    """The old CM app's data: its staff in `providers`, its patients written straight into
    `patients` (intakeq_client_id NULL) and its enrollments in `cm_patients`, with the quirks
    of free text: case and spacing variants, unknown values, missing birth dates, and people
    written twice (once by the IntakeQ sync, once by the CM app, spelled differently).
    Returns False when the legacy schema file is not found.
    """
    schema = legacy_schema_sql()
    if schema is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(schema)
    n_staff = max(5, size.legacy // 300)
    execute(
        "INSERT INTO providers (id, first_name, last_name, email, phone, role, credentials,"
        " is_active)"
        f" SELECT {uid('lprov', 'k')}, {first_name('k * 3 + 1')}, {last_name('k * 17 + 5')},"
        " CASE WHEN k % 9 = 4 THEN NULL ELSE 'Staff' || k || '@Legacy.example' END,"
        " '(801) 555-1' || lpad((k % 1000)::text, 3, '0'),"
        " CASE WHEN k < 20 THEN 'psychiatrist' WHEN k % 10 = 0 THEN 'cpss_supervisor'"
        " ELSE 'cpss' END,"
        " CASE WHEN k < 20 THEN 'MD' WHEN k % 2 = 0 THEN 'CPSS-I' ELSE 'CPSS-II' END,"
        " k % 15 <> 0"
        " FROM generate_series(0, %(n)s - 1) AS k",
        {"n": 20 + n_staff},
    )
    persons = max(1, int(size.legacy * 0.9))
    # One legacy person in five is an IntakeQ patient too, re-typed by the CM app.
    iq_person = intakeq_person("p / 5", size)
    person = (
        f"(CASE WHEN p % 5 = 0 AND p / 5 < {size.intakeq} THEN {iq_person}"
        f" ELSE {LEGACY_ONLY_PERSON} + p END)"
    )
    execute(
        "INSERT INTO patients (id, intakeq_client_id, first_name, last_name, date_of_birth,"
        " phone, email, created_at, updated_at)"
        f" SELECT {uid('lpat', 'p')}, NULL,"
        f" CASE WHEN p % 5 = 0 THEN lower({first_name(person)}) || ' '"
        f" ELSE {first_name(person)} END,"
        f" CASE WHEN p % 10 = 5 THEN ' ' || upper({last_name(person)})"
        f" ELSE {last_name(person)} END,"
        f" CASE WHEN p % 33 = 7 THEN NULL ELSE {birth_date(person)} END,"
        " CASE WHEN p % 6 = 0 THEN NULL ELSE '801-555-' || lpad((p % 10000)::text, 4, '0') END,"
        " CASE WHEN p % 3 = 0 THEN NULL ELSE 'Legacy' || p || '@Mail.example' END,"
        " now() - (p % 2000) * interval '1 day', now() - (p % 500) * interval '1 day'"
        " FROM generate_series(0, %(n)s - 1) AS p",
        {"n": persons},
    )
    execute(
        "INSERT INTO cm_patients (id, patient_id, cpss_provider_id, program_name,"
        " insurance_primary, medicaid_id, enrollment_source, consent_date, smartphone_access,"
        " emergency_contact_name, emergency_contact_phone, address_street, address_city,"
        " address_state, address_zip, preferred_language, total_points, current_streak,"
        " enrollment_date, status, medicaid_verification, pod_assignment, notes, created_at,"
        " updated_at)"
        f" SELECT {uid('lcm', 'k')}, {uid('lpat', f'k % {persons}')},"
        f" CASE WHEN k % 20 = 13 THEN NULL ELSE {uid('lprov', f'20 + k % {n_staff}')} END,"
        f" CASE WHEN k >= {persons} THEN 'Alcohol CM'"
        f" ELSE {pick('programs', len(LEGACY_PROGRAMS), 'k')} END,"
        " CASE WHEN k % 3 = 0 THEN 'Utah Medicaid' WHEN k % 3 = 1 THEN 'medicaid' END,"
        " CASE WHEN k % 3 = 0 THEN 'UT' || lpad(k::text, 9, '0') END,"
        f" {pick('sources', len(LEGACY_SOURCES), 'k')},"
        " CASE WHEN k % 8 = 0 THEN NULL ELSE now() - (k % 1500) * interval '1 day' END,"
        f" {pick('smartphone', len(LEGACY_SMARTPHONE), 'k')},"
        " 'Contact ' || k, '(801) 555-2' || lpad((k % 1000)::text, 3, '0'),"
        " k || ' State St', CASE WHEN k % 4 = 0 THEN 'SLC' ELSE 'Salt Lake City' END,"
        " CASE WHEN k % 7 = 0 THEN 'Utah' ELSE 'UT' END, '84' || lpad((k % 1000)::text, 3, '0'),"
        f" {pick('languages', len(LANGUAGES), 'k')},"
        " (k * 37) % 800, (k * 7) % 25, now() - (k % 1500) * interval '1 day',"
        f" {pick('statuses', len(LEGACY_STATUSES), 'k')},"
        " CASE WHEN k % 4 = 0 THEN jsonb_build_object('status', 'verified', 'by', 'legacy') END,"
        " 'Pod ' || (k % 9), CASE WHEN k % 6 = 0 THEN 'Legacy note ' || k END,"
        " now() - (k % 1500) * interval '1 day', now() - (k % 300) * interval '1 day'"
        " FROM generate_series(0, %(n)s - 1) AS k",
        {
            "n": size.legacy,
            "programs": LEGACY_PROGRAMS,
            "sources": LEGACY_SOURCES,
            "smartphone": LEGACY_SMARTPHONE,
            "languages": LANGUAGES,
            "statuses": LEGACY_STATUSES,
        },
    )
    return True
