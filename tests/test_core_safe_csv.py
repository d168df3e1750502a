import csv
import io
import stat

import pytest

from core.safe_csv import SafeWriter, formula_safe, private_csv_writer


@pytest.mark.parametrize(
    "cell",
    ['=HYPERLINK("http://x")', "=cmd|' /C calc'!A0", "@SUM(A1:A2)", "+1+1", "-2+3", "\t=1", "\r=1"],
)
def test_formula_cells_are_neutralized(cell):
    assert formula_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Jon", "1992-03-22", "a=b", ""])
def test_plain_text_is_kept(cell):
    assert formula_safe(cell) == cell


def test_numbers_stay_numbers_and_none_is_empty():
    assert formula_safe(-3) == -3
    assert formula_safe(None) == ""


def test_safe_writer_writes_neutralized_rows():
    buffer = io.StringIO()
    SafeWriter(buffer).writerows([["name", "note"], ["Ann", "=1+1"]])
    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [
        ["name", "note"],
        ["Ann", "'=1+1"],
    ]


def test_private_csv_file_is_created_owner_only(tmp_path):
    path = tmp_path / "sub" / "report.csv"
    with private_csv_writer(path) as writer:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        writer.writerow(["@x"])
    assert path.read_bytes() == b"'@x\r\n"


def test_private_csv_writer_tightens_an_existing_file(tmp_path):
    path = tmp_path / "report.csv"
    path.write_text("old")
    path.chmod(0o644)
    with private_csv_writer(path) as writer:
        writer.writerow(["new"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == b"new\r\n"
