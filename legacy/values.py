"""What the old CM app's free-text values become: the value tables and the rules for reading them.

Keys are compared after ``code()``: lower case, trimmed, runs of spaces, underscores and hyphens
folded to one space. docs/legacy-migration.md shows these tables.
"""

import re

STATUS_MAP = {
    "active": "active",
    "paused": "paused",
    "on hold": "paused",
    "hold": "paused",
    "graduated": "graduated",
    "completed": "graduated",
    "complete": "graduated",
    "withdrawn": "withdrawn",
    "discharged": "withdrawn",
    "dropped": "withdrawn",
    "dropped out": "withdrawn",
}
# 'inactive' could mean paused or withdrawn: a person decides (``--map-status inactive=...``).
AMBIGUOUS_STATUSES = {"inactive"}
SMARTPHONE_MAP = {
    "yes": "yes",
    "y": "yes",
    "true": "yes",
    "t": "yes",
    "1": "yes",
    "no": "no",
    "n": "no",
    "false": "no",
    "f": "no",
    "0": "no",
    "limited": "limited",
}
ENROLLMENT_SOURCE_MAP = {
    "acute care": "acute_care",
    "outpatient": "outpatient",
    "referral": "referral",
    "existing patient": "existing_patient",
}
PROVIDER_ROLE_MAP = {"cpss": "cpss", "cpss supervisor": "supervisor"}

HISTORY_REASON = "Migrated from the old CM app (migrate_cm_legacy)."
OPENING_BALANCE_REASON = "Points and streak carried over from the old CM app (migrate_cm_legacy)."
DEFAULT_PROGRAM_NAME = "Legacy CM program (unnamed)"
DEFAULT_PROGRAM_DESCRIPTION = (
    "The single program the old CM app ran before programs had names (program_name NULL)."
)

_CODE_SEPARATORS = re.compile(r"[\s_\-]+")


def code(value: str | None) -> str:
    return _CODE_SEPARATORS.sub(" ", value or "").strip().lower()


def blank_to_none(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None


def status_map_with(overrides: dict[str, str] | None) -> dict[str, str]:
    """The status table plus the values a person decided with ``--map-status``."""
    return {**STATUS_MAP, **{code(k): v for k, v in (overrides or {}).items()}}


def program_key(name: str | None) -> str:
    # Blank and NULL names are the old app's single unnamed program, kept under one clear name.
    return " ".join((name or "").split()).casefold() or DEFAULT_PROGRAM_NAME.casefold()
