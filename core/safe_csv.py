"""CSV that is safe to open in a spreadsheet and, on disk, readable by its owner only.

Every CSV the project writes goes through here. Cells that a spreadsheet would read as a
formula (OWASP's CSV-injection rule: a leading ``=``, ``+``, ``-``, ``@``, tab or carriage
return) get a leading apostrophe, which spreadsheets show as text and never evaluate.
"""

import contextlib
import csv
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> Any:
    """The cell as a spreadsheet must show it; numbers stay numbers (``-3`` is a value)."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class SafeWriter:
    """csv.writer's interface, with every cell passed through formula_safe."""

    def __init__(self, handle, **kwargs):
        self._writer = csv.writer(handle, **kwargs)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([formula_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


@contextlib.contextmanager
def private_csv_writer(path: Path) -> Iterator[SafeWriter]:
    """Write a CSV file created with mode 600 from the first byte (no window where others can
    read it); an existing file is replaced and its mode forced to 600 as well."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", newline="") as handle:
        yield SafeWriter(handle)
