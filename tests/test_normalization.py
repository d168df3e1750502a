"""The Python twin of cm_normalize_name agrees with the database's definition."""

import pytest
from django.db import connection

from identity.normalization import normalize_name

pytestmark = pytest.mark.django_db

NAMES = [
    "Jessica",
    "  jessica  ",
    "JÉSSICA",
    "O'Brien",
    "O’Brien",
    "Smith-Jones",
    "smith – jones",
    "Mary  Ann",
    "Mary\u00a0Ann",
    "Ørsted",
    "Łukasz",
    "Nguyễn",
    "St. John",
    "D'Angelo-Ruiz",
    "Groß",
    "ΝΙΚΟΣ ΠΑΠΠΑΣ",
    "Παππάς",
    "Jean\u202fPaul",
    "Jean\u2007Paul",
    "\u202fJean\u202f",
    "Mary\u2003Ann",
]


@pytest.mark.parametrize("name", NAMES)
def test_python_normalization_matches_the_database(name):
    with connection.cursor() as cursor:
        cursor.execute("SELECT cm_normalize_name(%s)", [name])
        in_database = cursor.fetchone()[0]
    assert normalize_name(name) == in_database


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("  JÉSSICA  ", "jessica"),
        ("O'Brien", "obrien"),
        ("Smith-Jones", "smith jones"),
        ("Mary   Ann", "mary ann"),
        ("Nguyễn", "nguyen"),
    ],
)
def test_normalization_folds_case_accents_spacing_and_punctuation(typed, normalized):
    assert normalize_name(typed) == normalized
