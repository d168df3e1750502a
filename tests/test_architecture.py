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


@pytest.mark.parametrize(
    ("module", "wrong_import", "complaint"),
    [
        pytest.param(
            "identity.dates",
            "from cm_program.models import Enrollment",
            "identity is not allowed to import cm_program",
            id="an upward import breaks the layers",
        ),
        pytest.param(
            "identity.matching",
            "from staff.access import is_admin",
            "identity is not allowed to import staff",
            id="identity may not import even a lower app of ours",
        ),
        pytest.param(
            "providers.services",
            "import intakeq_link.models",
            "providers is not allowed to import intakeq_link",
            id="providers may not reach IntakeQ data",
        ),
        pytest.param(
            "cm_program.selectors",
            "from audit.selectors import ChangeRecord",
            "cm_program is not allowed to import audit",
            id="a domain app may not import the change history",
        ),
        pytest.param(
            "legacy.services",
            "from cmproject.settings import base",
            "legacy is not allowed to import cmproject",
            id="the legacy migration may not import the composition root",
        ),
    ],
)
def test_a_wrong_import_breaks_a_contract(project_copy, module, wrong_import, complaint):
    _add_import(project_copy, module, wrong_import)
    result = _lint_imports(project_copy)
    assert result.returncode == 1
    assert complaint in result.stdout
