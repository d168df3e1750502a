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
