"""The registry of merge movers: how each app moves a person's rows at a merge and back at unmerge.

identity imports no other app, so every app that keeps rows *about a person* (pointing at
``PatientCanonical``) registers a mover in its ``AppConfig.ready()``, as intakeq_link registers
its matching source::

    class IncentivesConfig(AppConfig):
        def ready(self):
            from identity.merging import register_merge_mover
            from incentives.merging import IncentivesMover

            register_merge_mover("incentives", IncentivesMover())

A mover has three methods, all called inside the merge's (or unmerge's) transaction:

- ``preview(*, keep, merge) -> MovePreview``: what would move, the one-per-person choices the
  admin must make (``Choice``), and blockers (a merge that must not happen, in one sentence).
- ``move(*, keep, merge, choices, actor) -> MoveResult``: move the rows. ``choices`` maps each
  of the mover's choice keys to ``KEEP`` or ``MERGE`` (whose row survives; the admin's pick,
  ``KEEP`` when not given). The result's ``payload`` (JSON-able: ids as strings) is stored on
  the merge record and handed back to ``restore``; ``detached`` lists, in words, the rows that
  lost a choice.
- ``restore(*, keep, merge, payload, actor) -> None``: undo ``move`` from its payload; raise
  ValidationError (one sentence) when a row cannot go back, e.g. a one-per-person rule now taken.

Rules for a mover: never delete a row (detach it: point it nowhere or leave it on the merged
person, and say so in ``detached``); never rewrite history rows (append-only tables): leave them
pointing at the merged person, who is never deleted; restore only rows still where ``move`` put
them. Movers run in registration order and are restored in reverse order.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

KEEP = "keep"
MERGE = "merge"


@dataclass(frozen=True)
class Choice:
    """A one-per-person rule both people have a row for: the admin picks whose row survives."""

    key: str  # unique within the mover, e.g. "cm_record" or "enrollment:<program id>"
    label: str  # "CM record"
    keep_row: str  # the kept person's row, in words
    merge_row: str  # the merged person's row, in words


@dataclass(frozen=True)
class MovePreview:
    moves: tuple[str, ...] = ()  # rows that move to the kept person, in words
    choices: tuple[Choice, ...] = ()
    blockers: tuple[str, ...] = ()  # reasons the merge cannot be done, one sentence each


@dataclass(frozen=True)
class MoveResult:
    payload: dict = field(default_factory=dict)
    detached: tuple[str, ...] = ()


class MergeMover(Protocol):
    def preview(self, *, keep, merge) -> MovePreview: ...

    def move(self, *, keep, merge, choices: Mapping[str, str], actor) -> MoveResult: ...

    def restore(self, *, keep, merge, payload: dict, actor) -> None: ...


_movers: dict[str, MergeMover] = {}


def register_merge_mover(name: str, mover: MergeMover) -> None:
    """Register (or replace, by name) how an app moves its rows; see the module docstring."""
    _movers[name] = mover


def merge_movers() -> dict[str, MergeMover]:
    return dict(_movers)
