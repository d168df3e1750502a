"""Who made a change, for changes made outside a web request.

Web requests get their context from pghistory's middleware (user id, URL). A management command
that writes PHI should run inside ``command_context``, so its rows in the change history say
which command (and which operating-system account) made them::

    from core.audit_context import command_context

    class Command(BaseCommand):
        def handle(self, *args, **options):
            with command_context("migrate_cm_legacy", dry_run=options["dry_run"]):
                ...

The context is attached to every statement Django sends, raw SQL and bulk operations included.
COPY through psycopg's ``cursor.copy()`` bypasses that: call ``bind_context_to_transaction()``
first in each transaction that uses it.
"""

import getpass

import pghistory


def command_context(command: str, **extra):
    """A pghistory context naming the command; usable as a context manager or decorator."""
    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):
        os_user = None
    return pghistory.context(command=command, os_user=os_user, **extra)


def bind_context_to_transaction() -> None:
    """Make the current context hold for the rest of the transaction, for writes that bypass
    Django's ``cursor.execute`` (psycopg's ``cursor.copy()``, i.e. COPY): pghistory attaches
    context by prefixing each statement Django sends, and COPY is not sent that way.

    Call it inside ``command_context(...)`` and inside the transaction, before the COPY.
    """
    from django.db import connection

    if not connection.in_atomic_block:
        return  # autocommit: each statement is its own transaction, nothing to bind to
    with connection.cursor() as cursor:
        # Any statement pghistory does not skip will do; this one changes nothing else.
        cursor.execute("SET LOCAL application_name = 'cm-audit'")
