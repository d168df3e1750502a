"""Print the SQL that creates the site's database role and grants it exactly its rights."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from cmproject.database_roles import (
    checked_role_name,
    create_role_statements,
    grant_statements,
    owner_login,
)


class Command(BaseCommand):
    help = (
        "Print the SQL (for psql or Supabase's SQL editor, run as the tables' owner) that "
        "creates the site's role and grants it its rights on this database as it is now. "
        "Nothing is run. docs/access-and-audit.md, 'Database roles'."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--app-role",
            default="cm_app",
            help="The site's role, the user of DATABASE_URL (default cm_app).",
        )
        parser.add_argument(
            "--owner-role",
            help="The role that runs migrations and owns the tables (default: the login of "
            "DATABASE_OWNER_URL, else of DATABASE_URL).",
        )
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args, **options):
        try:
            app_role = checked_role_name(options["app_role"])
            owner_role = options["owner_role"] and checked_role_name(options["owner_role"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if options["database"] not in connections:
            raise CommandError(f"No database is configured as {options['database']!r}.")
        connection = connections[options["database"]]
        owner = getattr(settings, "DATABASE_OWNER", None)
        with owner_login(connection, owner), connection.cursor() as cursor:
            if not owner_role:
                cursor.execute("SELECT current_user")
                owner_role = cursor.fetchone()[0]
            if owner_role == app_role:
                raise CommandError(
                    "The site's role must not be the owner: pass --owner-role or "
                    "--app-role with two different roles."
                )
            grants = grant_statements(
                cursor,
                app_role=app_role,
                owner_role=owner_role,
                database=connection.settings_dict["NAME"],
            )
        lines = [
            f"-- The site's role {app_role} and its rights; run as {owner_role}.",
            *create_role_statements(app_role),
            f"-- Give it a password (kept out of this output): "
            f"ALTER ROLE {app_role} PASSWORD '...';",
            "BEGIN;",
            *grants,
            "COMMIT;",
        ]
        self.stdout.write("\n".join(lines))
