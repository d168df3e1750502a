"""`.env.example` and docs/deployment.md name exactly the variables the settings read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def variables_the_settings_read():
    names = set()
    for module in (ROOT / "cmproject" / "settings").glob("*.py"):
        text = module.read_text()
        names |= set(re.findall(r'\benv\.\w+\(\s*"([A-Z][A-Z0-9_]*)"', text))
        names |= set(re.findall(r'\brequired\(\s*"([A-Z][A-Z0-9_]*)"', text))
    return names


def test_the_settings_read_variables_at_all():
    assert {"SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS"} <= variables_the_settings_read()


def test_env_example_lists_every_variable_the_settings_read_and_no_other():
    listed = re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M)
    assert sorted(listed) == sorted(variables_the_settings_read())


def test_the_deployment_guide_names_every_variable_the_settings_read():
    guide = (ROOT / "docs" / "deployment.md").read_text()
    assert sorted(n for n in variables_the_settings_read() if f"`{n}`" not in guide) == []
