"""Name normalization: one definition in SQL (for the database's uniqueness) and its twin in Python.

The SQL function ``cm_normalize_name`` is what the unique index is built on, so the database
decides whether two spellings are the same key. The Python twin is used for matching and for
showing staff why two records were proposed; tests keep the two in agreement.

Rules: Unicode NFD with combining marks dropped (accents), lower case, apostrophes and periods
dropped (O'Brien = OBrien), hyphens/commas/underscores and any whitespace run become one space,
trimmed. The name as typed is kept for display.
"""

import re
import unicodedata

import phonenumbers

# Letters NFD does not decompose.
_EXTRA_FOLDS = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "t", "æ": "a", "œ": "o", "ß": "s", "ı": "i"}
)
# The database's lower() takes one letter at a time; Python's writes a word-final capital sigma
# as 'ς', which would make 'ΝΙΚΟΣ' and 'Νικοσ' two keys here and one in the unique index.
_SIGMA = str.maketrans({"Σ": "σ"})
_DROPPED = re.compile(r"['’‘`ʼ.]")
# The database's \s (glibc's space class) leaves out the figure and narrow no-break spaces that
# Python's \s includes.
_SEPARATORS = re.compile(r"(?:[^\S\u2007\u202f]|[\u00a0\-‐‑–—,_])+")

NORMALIZE_NAME_SQL = r"""
CREATE OR REPLACE FUNCTION cm_normalize_name(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT btrim(
    regexp_replace(
      regexp_replace(
        translate(
          lower(regexp_replace(normalize(name, NFD), '[\u0300-\u036f]', '', 'g')),
          'øłđðþæœßı', 'olddtaosi'
        ),
        '[''’‘`ʼ.]', '', 'g'
      ),
      '[\s\u00a0\-‐‑–—,_]+', ' ', 'g'
    )
  )
$$;
"""


def normalize_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFD", name)
    without_marks = "".join(ch for ch in decomposed if not ("\u0300" <= ch <= "\u036f"))
    folded = without_marks.translate(_SIGMA).lower().translate(_EXTRA_FOLDS)
    return _SEPARATORS.sub(" ", _DROPPED.sub("", folded)).strip(" ")


def normalize_phone(phone: str | None) -> str | None:
    """The ten digits of a US number however typed ('(801) 555-0100', '+1 801.555.0100'), else
    the digits as typed when they are not a US number; None when there are fewer than 7."""
    digits = phonenumbers.normalize_digits_only(phone or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) >= 7 else None


def normalize_email(email: str | None) -> str | None:
    """Lower case, trimmed; None unless it looks like an address (something@something)."""
    value = (email or "").strip().lower()
    local, at, domain = value.partition("@")
    return value if at and local and domain else None
