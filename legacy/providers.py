"""Providers: the legacy CPSS staff into providers_cm (psychiatry providers stay where they are)."""

from dataclasses import dataclass, field

from django.contrib.auth.base_user import BaseUserManager
from django.db import transaction

from cm_program.validators import ascii_digits
from legacy.bulk import already_mapped, copy_new_rows, fetch, new_id, text_ids, write_id_map
from legacy.models import LegacyIdMap
from legacy.results import Batching, PhaseLog
from legacy.values import PROVIDER_ROLE_MAP, blank_to_none, code
from providers.models import ProviderCM

_COLUMNS = [
    "id",
    "canonical_provider_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "role",
    "credentials",
    "status",
]


@dataclass(kw_only=True)
class ProvidersDone(PhaseLog):
    table: str = "providers"
    provider_map: dict[str, str] = field(default_factory=dict)  # legacy id -> providers_cm id
    non_cpss: int = 0


@dataclass
class _Existing:
    """providers_cm rows that were there before this run, by legacy id and by email."""

    by_legacy_id: dict[str, str]
    by_email: dict[str, str]
    emails_seen: dict[str, str] = field(default_factory=dict)  # this run: email -> legacy id

    @classmethod
    def read(cls) -> "_Existing":
        with_legacy_id = ProviderCM.objects.filter(canonical_provider_id__isnull=False)
        with_email = ProviderCM.objects.filter(email__isnull=False)
        return cls(
            by_legacy_id=text_ids(with_legacy_id.values_list("canonical_provider_id", "pk")),
            by_email={
                e.strip().lower(): str(pk) for pk, e in with_email.values_list("pk", "email")
            },
        )


def migrate_providers(batching: Batching) -> ProvidersDone:
    done = ProvidersDone()
    mapped = already_mapped(done.table)
    existing = _Existing.read()
    new_rows, entries = [], []
    for row in fetch(
        "SELECT id::text, first_name, last_name, email, phone, role, credentials, is_active "
        "FROM providers ORDER BY created_at, id"
    ):
        role = PROVIDER_ROLE_MAP.get(code(row[5]))
        if role is None:
            done.non_cpss += 1
            continue
        done.counts.read += 1
        if row[0] in mapped:
            done.counts.already += 1
            continue
        entry, new_row = _plan_provider(done, existing, row, role)
        entries.append(entry)
        if new_row:
            new_rows.append(new_row)
    with transaction.atomic():
        copy_new_rows(done, ProviderCM, _COLUMNS, new_rows)
        write_id_map(done, ProviderCM._meta.db_table, entries)
    done.provider_map = {**mapped, **{legacy: new for legacy, new, _ in entries}}
    batching.committed(done.table, 1, done.counts.read, done.counts.read)
    # Psychiatry providers stay where they are; counted, so the table's rows all add up.
    done.skipped("not_cpss", count=done.non_cpss)
    return done


def _plan_provider(done: ProvidersDone, existing: _Existing, row: tuple, role: str):
    """(legacy_id_map entry, new providers_cm row or None) for one legacy CPSS."""
    pk, first, last, email, phone, _, credentials, is_active = row
    email = blank_to_none(email)
    # Django's rule: the domain is case-insensitive, the local part is kept as typed.
    email = BaseUserManager.normalize_email(email.strip()) if email else None
    email_key = email.lower() if email else None
    if pk in existing.by_legacy_id:
        return (pk, existing.by_legacy_id[pk], LegacyIdMap.Outcome.MERGED), None
    if email_key in existing.by_email:
        merged_into = existing.by_email[email_key]
        done.note(pk, "merged_by_email", related_id=merged_into)
        return (pk, merged_into, LegacyIdMap.Outcome.MERGED), None
    if email_key in existing.emails_seen:
        # providers_cm.email is UNIQUE: the earlier row keeps it, this one is kept too.
        done.note(pk, "duplicate_email_dropped", related_id=existing.emails_seen[email_key])
        email = None
    elif email_key:
        existing.emails_seen[email_key] = pk
    status = ProviderCM.Status.ACTIVE if is_active else ProviderCM.Status.INACTIVE
    new_pk = new_id()
    phone = blank_to_none(phone) and ascii_digits(phone)
    new_row = (new_pk, pk, first, last, email, phone, role,
               blank_to_none(credentials), status)  # fmt: skip
    return (pk, new_pk, LegacyIdMap.Outcome.MIGRATED), new_row
