"""The two database roles: the owner (runs migrations, owns every table) and the site's role.

The site's role owns nothing: it may read and write the domain tables, only read and append to
the history tables, and only read the tables other systems own. Not being an owner, it cannot
TRUNCATE, ALTER TABLE ... DISABLE TRIGGER or change session_replication_role (superuser only).

"History table" is read from the database catalog, not kept in a list here: a table carrying the
unconditional append-only trigger of core.db.append_only_trigger (``cm_refuse_change``), so a
table another app adds later with that trigger is treated the same. A table whose append-only
trigger has a WHEN condition (decided link proposals) is a domain table whose closed rows the
trigger freezes. docs/access-and-audit.md, "Database roles", tells the whole story.
"""

import contextlib
import re

from django.apps import apps
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder

from legacy.results import LEGACY_TABLES

DOMAIN_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
HISTORY_PRIVILEGES = "SELECT, INSERT"
# What no one but the owner may hold on a history table.
REWRITE_PRIVILEGES = "UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# Tables of the current schema whose rows a BEFORE UPDATE OR DELETE trigger always refuses.
_HISTORY_TABLES_SQL = """
SELECT DISTINCT c.relname
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc p ON p.oid = t.tgfoid
WHERE p.proname = 'cm_refuse_change' AND n.nspname = current_schema()
  AND NOT t.tgisinternal AND t.tgqual IS NULL
  AND (t.tgtype & 1) = 1  -- FOR EACH ROW
ORDER BY c.relname
"""
_TABLES_SQL = (
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
)
# (table, grantee) for every right on a history table that lets someone other than its owner
# rewrite it; grantee 0 is PUBLIC.
_REWRITE_GRANTS_SQL = """
SELECT c.relname, coalesce(r.rolname, 'PUBLIC')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(c.relacl) AS acl
LEFT JOIN pg_roles r ON r.oid = acl.grantee
WHERE n.nspname = current_schema() AND c.relname = ANY(%s)
  AND acl.grantee <> c.relowner
  AND acl.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER')
GROUP BY 1, 2
ORDER BY 1, 2
"""


def checked_role_name(name: str) -> str:
    """A role name printed into SQL: plain lower-case identifiers only."""
    if not _ROLE_NAME.match(name):
        raise ValueError(f"{name!r} is not a plain role name (a-z, 0-9, _).")
    return name


def history_tables(cursor) -> list[str]:
    cursor.execute(_HISTORY_TABLES_SQL)
    return [row[0] for row in cursor.fetchall()]


def _read_only_tables() -> set[str]:
    """Tables the site reads and never writes: other systems' tables (unmanaged models, the
    legacy app's), the migration record, and pghistory's old shared context table."""
    unmanaged = {m._meta.db_table for m in apps.get_models() if not m._meta.managed}
    return (
        unmanaged
        | set(LEGACY_TABLES)
        | {MigrationRecorder.Migration._meta.db_table}
        | {"pghistory_context"}
    )


def _domain_tables() -> set[str]:
    return {
        m._meta.db_table
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy
    }


def grant_statements(cursor, *, app_role: str, owner_role: str, database: str) -> list[str]:
    """The SQL that gives ``app_role`` exactly its rights on this database as it is now, and on
    the tables ``owner_role`` creates later (default privileges). Safe to run again."""
    quote = _quote
    app, owner = quote(checked_role_name(app_role)), quote(checked_role_name(owner_role))
    cursor.execute(_TABLES_SQL)
    tables = [row[0] for row in cursor.fetchall()]
    history = set(history_tables(cursor))
    read_only, domain = _read_only_tables(), _domain_tables()
    statements = [
        f"GRANT CONNECT, TEMPORARY ON DATABASE {quote(database)} TO {app};",
        f"GRANT USAGE ON SCHEMA public TO {app};",
    ]
    for table in tables:
        if table in history:
            rights = HISTORY_PRIVILEGES
        elif table in read_only:
            rights = "SELECT"
        elif table in domain:
            rights = DOMAIN_PRIVILEGES
        else:
            continue  # not ours to hand out (another system's table, not read by the site)
        # REVOKE first: a right granted earlier (e.g. by default privileges) goes if not listed.
        statements.append(f"REVOKE ALL ON {quote(table)} FROM {app};")
        statements.append(f"GRANT {rights} ON {quote(table)} TO {app};")
    statements += [
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app};",
        # Tables the owner's later migrations create (any app) are domain tables by default;
        # a history table among them loses its rewrite rights at the end of that migrate
        # (harden_history_tables).
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT {DOMAIN_PRIVILEGES} ON TABLES TO {app};",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {app};",
    ]
    return statements


def create_role_statements(app_role: str) -> list[str]:
    """Create the site's role where it is missing: it may log in, and nothing more."""
    name = checked_role_name(app_role)
    return [
        "DO $$ BEGIN\n"
        f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN\n"
        f"    CREATE ROLE {_quote(name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
        "NOREPLICATION NOBYPASSRLS;\n"
        "  END IF;\n"
        "END $$;",
    ]


def harden_history_tables(cursor) -> list[str]:
    """Take from everyone but the owner the rights that would rewrite a history table (granted
    by default privileges, or on Supabase to its API roles). Returns the statements run."""
    tables = history_tables(cursor)
    if not tables:
        return []
    cursor.execute(_REWRITE_GRANTS_SQL, [tables])
    statements = [
        f"REVOKE {REWRITE_PRIVILEGES} ON {_quote(table)} FROM "
        f"{'PUBLIC' if grantee == 'PUBLIC' else _quote(grantee)};"
        for table, grantee in cursor.fetchall()
    ]
    for statement in statements:
        cursor.execute(statement)
    return statements


def current_role(connection: BaseDatabaseWrapper) -> str | None:
    """The role a login acts as (on Supabase's pooler the login is 'role.project'), or None
    when it cannot connect (the role was not created yet)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            return cursor.fetchone()[0]
    except OperationalError:
        return None
    finally:
        connection.close()


@contextlib.contextmanager
def owner_login(connection: BaseDatabaseWrapper, owner: dict | None):
    """Use the owner's login on ``connection`` for the duration (nothing changes without one)."""
    if not owner:
        yield connection
        return
    keys = ("NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")
    saved = {key: connection.settings_dict.get(key) for key in keys}
    connection.close()
    connection.settings_dict.update({key: owner[key] for key in keys if key in owner})
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
