"""Imports between our apps run one way (DEVELOPERS.md), so the apps stay separable."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUR_APPS = {
    "identity",
    "providers",
    "intakeq_link",
    "cm_program",
    "legacy",
    "cmproject",
    "audit",
}

# app -> the other apps of ours it may import. cm_program reaches intakeq_link's services for the
# seed's Scenario 2 (link and enroll in one transaction); nothing imports cm_program back.
# audit is a leaf like cmproject: it tracks the PHI models, and pages import only its
# access_log (which loads no model module) to record who viewed a patient.
ALLOWED = {
    "identity": set(),
    "providers": set(),
    "intakeq_link": {"identity", "audit"},
    "cm_program": {"identity", "providers", "intakeq_link", "audit"},
    # The one-off migration writes every app's tables; it never reaches cmproject or audit.
    "legacy": {"identity", "providers", "intakeq_link", "cm_program"},
}


def _imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & OUR_APPS


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_app_imports_only_the_apps_it_may(app):
    offending = {}
    for path in (ROOT / app).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        extra = _imported_apps(path) - ALLOWED[app] - {app}
        if extra:
            offending[str(path.relative_to(ROOT))] = sorted(extra)
    assert offending == {}


def test_the_check_sees_a_forbidden_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("from cm_program.models import Enrollment\nimport intakeq_link.models\n")
    assert _imported_apps(module) == {"cm_program", "intakeq_link"}
