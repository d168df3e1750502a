"""Django's migrate, run as the tables' owner; then the site's role gets exactly its rights.

With DATABASE_OWNER_URL (or the embedded database's owner) configured, the site's own login
(DATABASE_URL) only tells which role the site acts as; the migrations, and the grants that
follow them, run on the owner's login. Without one, this is Django's migrate as it is.
"""

from django.conf import settings
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections

from cmproject.database_roles import current_role, grant_statements, owner_login


class Command(MigrateCommand):
    help = (
        "Apply migrations as the tables' owner (DATABASE_OWNER_URL), then grant the site's "
        "role (DATABASE_URL's) its rights: docs/access-and-audit.md, 'Database roles'."
    )

    def handle(self, *args, **options):
        owner = getattr(settings, "DATABASE_OWNER", None)
        if not owner:
            return super().handle(*args, **options)
        connection = connections[options["database"]]
        site_role = current_role(connection)
        with owner_login(connection, owner):
            super().handle(*args, **options)
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_user")
                owner_role = cursor.fetchone()[0]
                if site_role is None:
                    self.stderr.write(
                        "The site's login (DATABASE_URL) could not connect, so it was granted "
                        "nothing: create its role with `manage.py database_roles_sql`."
                    )
                    return None
                if site_role == owner_role:
                    return None
                for statement in grant_statements(
                    cursor,
                    app_role=site_role,
                    owner_role=owner_role,
                    database=connection.settings_dict["NAME"],
                ):
                    cursor.execute(statement)
        return None
