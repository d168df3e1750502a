"""The migrated database matches the seed's DDL: columns, types, NULLs, defaults, UNIQUE, CHECK."""

import re

import pytest

pytestmark = pytest.mark.django_db

# The seed's DEFAULT NOW(); PostgreSQL shows it as now() or CURRENT_TIMESTAMP.
NOW = "transaction time"
UUID_DEFAULT = "gen_random_uuid()"

# column: (type, nullable, default) — written from the seed, not from the models.
SEED_COLUMNS = {
    "patients_canonical": {
        "id": ("uuid", False, UUID_DEFAULT),
        "first_name": ("text", False, None),
        "last_name": ("text", False, None),
        "date_of_birth": ("date", False, None),
        "created_at": ("timestamp with time zone", True, NOW),
        "updated_at": ("timestamp with time zone", True, NOW),
    },
    "patients_cm": {
        "id": ("uuid", False, UUID_DEFAULT),
        "canonical_patient_id": ("uuid", True, None),
        "phone": ("text", True, None),
        "email": ("text", True, None),
        "insurance_primary": ("text", True, None),
        "medicaid_id": ("text", True, None),
        "enrollment_source": ("text", True, None),
        "consent_date": ("timestamp with time zone", True, None),
        "smartphone_access": ("text", True, None),
        "emergency_contact_name": ("text", True, None),
        "emergency_contact_phone": ("text", True, None),
        "address_street": ("text", True, None),
        "address_city": ("text", True, None),
        "address_state": ("text", True, "'UT'::text"),
        "address_zip": ("text", True, None),
        "preferred_language": ("text", True, "'English'::text"),
        "status": ("text", True, "'active'::text"),
        "created_at": ("timestamp with time zone", True, NOW),
        "updated_at": ("timestamp with time zone", True, NOW),
    },
    "patients_intakeq_link": {
        "id": ("uuid", False, UUID_DEFAULT),
        "canonical_patient_id": ("uuid", True, None),
        "intakeq_patient_id": ("uuid", True, None),
        "linked_date": ("timestamp with time zone", True, NOW),
        "linked_by": ("uuid", True, None),
        "confidence_score": ("numeric(3,2)", True, None),
    },
    "providers_cm": {
        "id": ("uuid", False, UUID_DEFAULT),
        "canonical_provider_id": ("uuid", True, None),
        "first_name": ("text", False, None),
        "last_name": ("text", False, None),
        "email": ("text", True, None),
        "phone": ("text", True, None),
        "role": ("text", True, "'cpss'::text"),
        "credentials": ("text", True, None),
        "hire_date": ("date", True, None),
        "status": ("text", True, "'active'::text"),
        "max_caseload": ("integer", True, "30"),
        "created_at": ("timestamp with time zone", True, NOW),
        "updated_at": ("timestamp with time zone", True, NOW),
    },
    "cm_enrollments": {
        "id": ("uuid", False, UUID_DEFAULT),
        "canonical_patient_id": ("uuid", True, None),
        "cm_patient_id": ("uuid", True, None),
        "cm_program_id": ("uuid", True, None),
        "cpss_provider_id": ("uuid", True, None),
        "total_points": ("integer", True, "0"),
        "current_streak": ("integer", True, "0"),
        "enrollment_date": ("timestamp with time zone", True, NOW),
        "status": ("text", True, "'active'::text"),
        "medicaid_verification": ("jsonb", True, None),
        "pod_assignment": ("text", True, None),
        "notes": ("text", True, None),
        "created_at": ("timestamp with time zone", True, NOW),
        "updated_at": ("timestamp with time zone", True, NOW),
    },
}

SEED_UNIQUES = {
    "patients_canonical": {("first_name", "last_name", "date_of_birth")},
    "patients_cm": {("canonical_patient_id",)},
    "patients_intakeq_link": {("canonical_patient_id",), ("intakeq_patient_id",)},
    "providers_cm": {("email",)},
    "cm_enrollments": {("canonical_patient_id", "cm_program_id")},
}

# column: the values its CHECK allows (the seed's IN lists).
SEED_CHECK_SETS = {
    ("patients_cm", "smartphone_access"): {"yes", "limited", "no"},
    ("patients_cm", "status"): {"active", "paused", "graduated", "withdrawn"},
    ("providers_cm", "role"): {"cpss", "supervisor", "admin"},
    ("providers_cm", "status"): {"active", "inactive"},
    ("cm_enrollments", "status"): {"active", "paused", "graduated", "withdrawn"},
}

SEED_FOREIGN_KEYS = {
    ("patients_cm", "canonical_patient_id"): "patients_canonical",
    ("patients_intakeq_link", "canonical_patient_id"): "patients_canonical",
    ("patients_intakeq_link", "intakeq_patient_id"): "patients",
    ("cm_enrollments", "canonical_patient_id"): "patients_canonical",
    ("cm_enrollments", "cm_patient_id"): "patients_cm",
    ("cm_enrollments", "cm_program_id"): "contingency_management",
    ("cm_enrollments", "cpss_provider_id"): "providers_cm",
}


def _columns(dictfetchall, table):
    rows = dictfetchall(
        """
        SELECT a.attname AS name,
               format_type(a.atttypid, a.atttypmod) AS type,
               NOT a.attnotnull AS nullable,
               pg_get_expr(d.adbin, d.adrelid) AS default,
               a.attgenerated <> '' AS generated
        FROM pg_attribute a
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
        """,
        [table],
    )
    return {row["name"]: row for row in rows}


def _constraints(dictfetchall, table, kind):
    return dictfetchall(
        """
        SELECT c.conname AS name,
               ARRAY(SELECT att.attname FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
                     JOIN pg_attribute att ON att.attrelid = c.conrelid AND att.attnum = k.attnum
                     ORDER BY k.n) AS columns,
               c.confrelid::regclass::text AS references,
               pg_get_constraintdef(c.oid) AS definition
        FROM pg_constraint c
        WHERE c.conrelid = %s::regclass AND c.contype = %s
        """,
        [table, kind],
    )


@pytest.mark.parametrize("table", sorted(SEED_COLUMNS))
def test_seed_columns_have_the_seed_types_nullability_and_defaults(dictfetchall, table):
    actual = _columns(dictfetchall, table)
    for column, (type_, nullable, default) in SEED_COLUMNS[table].items():
        assert column in actual, f"{table}.{column} is missing"
        found = actual[column]
        assert found["type"] == type_, f"{table}.{column} type"
        assert found["nullable"] is nullable, f"{table}.{column} nullability"
        if default == NOW:
            assert found["default"] in {"now()", "CURRENT_TIMESTAMP"}, f"{table}.{column} default"
        else:
            assert found["default"] == default, f"{table}.{column} default"


@pytest.mark.parametrize("table", sorted(SEED_COLUMNS))
def test_columns_beyond_the_seed_need_nothing_from_a_seed_only_insert(dictfetchall, table):
    for column, found in _columns(dictfetchall, table).items():
        if column in SEED_COLUMNS[table]:
            continue
        assert found["nullable"] or found["default"] is not None or found["generated"], (
            f"{table}.{column} is not in the seed, so it needs a default or must be computed"
        )


@pytest.mark.parametrize("table", sorted(SEED_UNIQUES))
def test_seed_unique_constraints_exist(dictfetchall, table):
    uniques = {tuple(row["columns"]) for row in _constraints(dictfetchall, table, "u")}
    assert SEED_UNIQUES[table] <= uniques


@pytest.mark.parametrize(("table", "column"), sorted(SEED_CHECK_SETS))
def test_seed_check_constraints_allow_exactly_the_seed_values(dictfetchall, table, column):
    checks = [row for row in _constraints(dictfetchall, table, "c") if row["columns"] == [column]]
    assert len(checks) == 1, f"one CHECK on {table}.{column}"
    allowed = set(re.findall(r"'([^']*)'::text", checks[0]["definition"]))
    assert allowed == SEED_CHECK_SETS[(table, column)]


def test_confidence_score_check_bounds_it_between_zero_and_one(dictfetchall):
    checks = _constraints(dictfetchall, "patients_intakeq_link", "c")
    definitions = [row["definition"] for row in checks if row["columns"] == ["confidence_score"]]
    assert definitions == [
        "CHECK (((confidence_score >= (0)::numeric) AND (confidence_score <= (1)::numeric)))"
    ]


@pytest.mark.parametrize(("table", "column"), sorted(SEED_FOREIGN_KEYS))
def test_seed_foreign_keys_exist(dictfetchall, table, column):
    references = {
        row["references"]
        for row in _constraints(dictfetchall, table, "f")
        if row["columns"] == [column]
    }
    assert references == {SEED_FOREIGN_KEYS[(table, column)]}


def test_patients_canonical_is_unique_on_the_normalized_name_too(dictfetchall):
    uniques = {
        tuple(row["columns"]) for row in _constraints(dictfetchall, "patients_canonical", "u")
    }
    assert ("first_name_normalized", "last_name_normalized", "date_of_birth") in uniques


def test_contingency_management_has_a_unique_name(dictfetchall):
    uniques = {
        tuple(r["columns"]) for r in _constraints(dictfetchall, "contingency_management", "u")
    }
    assert ("name",) in uniques
