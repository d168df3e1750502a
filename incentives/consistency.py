"""Does every enrollment's total_points and current_streak match a replay of its history, and
its ledger (the earned points summed, the streak its newest entry states)?

Read-only; ``manage.py incentives_check`` prints the result. Enrollments are replayed in
primary-key batches through the same code the services use (``incentives.history``).
"""

import gc
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from cm_program.models import Enrollment
from incentives.history import ledger_totals, load_histories, newest_stated, replay_history
from incentives.models import Account


@dataclass
class CheckResult:
    checked: int = 0
    differing: list = field(default_factory=list)


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off for one batch, then one collection.

    A batch builds a few hundred thousand short-lived objects (rows, visits, replay states),
    none of them in a cycle, so reference counting frees them. With the collector on, their
    allocation set off collections that walked every live object again and again: over half
    of incentives_check's time at 1,000,000 ledger entries. The collection after the batch
    takes whatever cycles there were."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect()


def enrollments_check(
    *, batch_size: int = 1000, progress: Callable[[int, int], None] | None = None
) -> CheckResult:
    """Replay every enrollment; list those whose points, streak or ledger disagree with it."""
    result = CheckResult()
    total = Enrollment.objects.count()
    last = None
    while True:
        batch = Enrollment.objects.order_by("pk")
        if last is not None:
            batch = batch.filter(pk__gt=last)
        rows = list(batch.values_list("pk", "total_points", "current_streak")[:batch_size])
        if not rows:
            return result
        ids = [pk for pk, _, _ in rows]
        with _collector_paused():
            histories = load_histories(ids)
            ledger = ledger_totals(ids)
            stated = newest_stated(ids)
            for pk, points, streak in rows:
                replayed = replay_history(histories[pk])
                in_ledger = ledger[pk][Account.EARNED] if pk in ledger else 0
                # The ledger explains the streak too: its newest entry must state it.
                stated_streak = stated[pk][1] if pk in stated else 0
                if (
                    (points or 0, streak or 0) != (replayed.total_points, replayed.streak)
                    or in_ledger != replayed.total_points
                    or stated_streak != (streak or 0)
                ):
                    result.differing.append(pk)
            del histories, ledger, stated
        result.checked += len(rows)
        last = ids[-1]
        if progress:
            progress(result.checked, total)
