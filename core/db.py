"""SQL shared by the apps' migrations.

updated_at is kept by a trigger as well as by Django's auto_now, because the Supabase/Node
clients also write these tables and would otherwise leave it stale.
"""

from django.db import migrations

SET_UPDATED_AT_FUNCTION = """
CREATE OR REPLACE FUNCTION cm_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;
"""


def updated_at_trigger(table: str) -> migrations.RunSQL:
    trigger = f"{table}_set_updated_at"
    return migrations.RunSQL(
        sql=[
            SET_UPDATED_AT_FUNCTION,
            f"CREATE TRIGGER {trigger} BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION cm_set_updated_at();",
        ],
        reverse_sql=f"DROP TRIGGER IF EXISTS {trigger} ON {table};",
    )


REFUSE_CHANGE_FUNCTION = """
CREATE OR REPLACE FUNCTION cm_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def append_only_trigger(table: str, *, unless: str | None = None) -> migrations.RunSQL:
    """Refuse UPDATE, DELETE and TRUNCATE on a history table, whoever the client is.

    ``unless`` is a condition on OLD that still lets a row change while it is open (for example
    ``"OLD.status = 'pending'"`` for a proposal not yet decided); once it is false the row is
    frozen. Privileges alone would not do: the tables' owner and other clients bypass them.
    """
    when = f" WHEN (NOT ({unless}))" if unless else ""
    row_trigger = f"{table}_append_only"
    truncate_trigger = f"{table}_no_truncate"
    return migrations.RunSQL(
        sql=[
            REFUSE_CHANGE_FUNCTION,
            f"CREATE TRIGGER {row_trigger} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW{when} EXECUTE FUNCTION cm_refuse_change();",
            f"CREATE TRIGGER {truncate_trigger} BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION cm_refuse_change();",
        ],
        reverse_sql=[
            f"DROP TRIGGER IF EXISTS {row_trigger} ON {table};",
            f"DROP TRIGGER IF EXISTS {truncate_trigger} ON {table};",
        ],
    )


def grant_to_groups(apps, *, app_label: str, codename: str, groups: tuple[str, ...]) -> None:
    """RunPython helper: give an existing database's staff groups a permission a migration adds
    (groups made earlier kept their permissions as they were; staff.groups lists new ones)."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after all migrations; this one is needed now.
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    permission = apps.get_model("auth", "Permission").objects.get(
        content_type__app_label=app_label, codename=codename
    )
    for group in apps.get_model("auth", "Group").objects.filter(name__in=groups):
        group.permissions.add(permission)
