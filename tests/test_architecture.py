"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and they can fail.

`make lint` runs ``lint-imports`` too; these tests keep the contracts honest when pytest runs
alone, and show that each kind of contract really refuses a wrong import.
"""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
ROOT_PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "root_packages"
]


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own venv's script, fixed arguments
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def project_copy(tmp_path):
    """The packages and pyproject.toml, copied, so a test may add a wrong import to them."""
    for package in ROOT_PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def _add_import(project: Path, module: str, line: str) -> None:
    path = project / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")


def test_the_import_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_upward_import_breaks_the_layers(project_copy):
    _add_import(project_copy, "identity.dates", "from cm_program.models import Enrollment")
    result = _lint_imports(project_copy)
    assert result.returncode == 1
    assert "identity is not allowed to import cm_program" in result.stdout


def test_identity_may_not_import_even_a_lower_app_of_ours(project_copy):
    _add_import(project_copy, "identity.matching", "from staff.access import is_admin")
    result = _lint_imports(project_copy)
    assert result.returncode == 1
    assert "identity is not allowed to import staff" in result.stdout


def test_providers_may_not_reach_intakeq_data(project_copy):
    _add_import(project_copy, "providers.services", "import intakeq_link.models")
    result = _lint_imports(project_copy)
    assert result.returncode == 1
    assert "providers is not allowed to import intakeq_link" in result.stdout


def test_a_domain_app_may_not_import_the_change_history(project_copy):
    _add_import(project_copy, "cm_program.selectors", "from audit.selectors import ChangeRecord")
    result = _lint_imports(project_copy)
    assert result.returncode == 1
    assert "cm_program is not allowed to import audit" in result.stdout
