"""Who made a change, for changes made outside a web request.

Web requests get their context from pghistory's middleware (user id, URL). A management command
that writes PHI should run inside ``command_context``, so its rows in the change history say
which command (and which operating-system account) made them::

    from audit.context import command_context

    class Command(BaseCommand):
        def handle(self, *args, **options):
            with command_context("migrate_cm_legacy", dry_run=options["dry_run"]):
                ...

The context is attached to every statement Django sends, raw SQL and bulk operations included.
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
