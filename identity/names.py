"""How two normalized names relate: same, nickname, sound-alike, typo, or different people.

Names come in normalized (identity.normalization). The nickname table is the hand-curated
"nicknames" dataset of Carlton Northern and Nick Crews (Apache-2.0), from the ``nicknames``
package; the list ``data/given_names.txt`` adds common given names that have no nickname there.
Together they say when two spellings are *both real, different names* (Mark and Mary, Daniel and
Danielle, the usual twins), which an edit distance alone would take for a typo.
"""

import functools
from dataclasses import dataclass
from pathlib import Path

import jellyfish
import nicknames
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

DATA_DIR = Path(__file__).resolve().parent / "data"

# Reasons a name comparison can give (Candidate.reasons carries them).
NORMALIZED = "normalized"
NICKNAME = "nickname"
PHONETIC = "phonetic"
TYPO = "typo"
COMPOUND = "compound_name"

# One name's strength of evidence, 0..1; STRONG and above counts as "the same name".
STRONG = 0.85
SAME = 1.0  # equal once normalized
_SCORES = {NORMALIZED: 1.0, NICKNAME: 0.9, COMPOUND: 0.88, PHONETIC: 0.88, TYPO: 0.86}

# Feminine/masculine pairs differ by an ending, not by a slip of the keyboard: Eric and Erica,
# Paul and Paula, Daniel and Danielle are typically boy/girl twins, never one person.
_GENDERED_ENDINGS = ("a", "e", "ia", "ie", "ine", "le", "elle", "ette", "na")


@dataclass(frozen=True)
class NameMatch:
    score: float
    reason: str | None  # None: the names are unrelated


@functools.cache
def _nickname_graph() -> dict[str, frozenset[str]]:
    # A name relates to its nicknames and to the formal names it is short for (both directions).
    namer = nicknames.NickNamer()
    listed = namer.nickname_lookup.keys() | namer.canonical_lookup.keys()
    return {
        name: frozenset(namer.nicknames_of(name) | namer.canonicals_of(name)) for name in listed
    }


@functools.cache
def known_given_names() -> frozenset[str]:
    extra = (DATA_DIR / "given_names.txt").read_text(encoding="utf-8").splitlines()
    listed = {line.strip() for line in extra if line.strip() and not line.startswith("#")}
    return frozenset(_nickname_graph()) | listed


def related_names(name: str) -> frozenset[str]:
    """The names the nickname table relates to ``name`` (empty: it can be nobody's nickname)."""
    return _nickname_graph().get(name, frozenset())


def are_nicknames(a: str, b: str) -> bool:
    """Bob and Robert (listed), or Bob and Rob (both short for Robert)."""
    graph = _nickname_graph()
    a_related, b_related = graph.get(a), graph.get(b)
    if not a_related or not b_related:
        return False
    return b in a_related or bool(a_related & b_related)


def _gendered_pair(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    if long.startswith(short) and long[len(short) :] in _GENDERED_ENDINGS:
        return True
    # Mario/Maria, Antonio/Antonia, Julio/Julia.
    return len(a) == len(b) and a[:-1] == b[:-1] and {a[-1], b[-1]} == {"a", "o"}


def _distinct_names(a: str, b: str) -> bool:
    """Both are real given names in their own right, so a small difference is not a typo.

    Spelling variants of one name (Catherine/Katherine, Sara/Sarah) share nicknames in the table
    and are caught as nicknames before this is asked.
    """
    if _gendered_pair(a, b):
        return True
    known = known_given_names()
    return a in known and b in known


def typo_budget(a: str, b: str) -> int:
    """How many edits (Damerau-Levenshtein) two compacted names may differ by and be a typo."""
    shortest = min(len(a), len(b))
    if shortest <= 3:
        return 0
    return 1 if shortest <= 6 else 2


def compare_names(a: str, b: str, *, given_name: bool) -> NameMatch:
    """Compare two normalized names; ``given_name`` enables nicknames and the twins guard."""
    if not a or not b:
        return NameMatch(0.0, None)
    if a == b:
        return NameMatch(_SCORES[NORMALIZED], NORMALIZED)
    a_compact, b_compact = a.replace(" ", ""), b.replace(" ", "")
    if a_compact == b_compact:  # "Mary Ann" / "Maryann", "De La Cruz" / "Delacruz"
        return NameMatch(_SCORES[NORMALIZED], NORMALIZED)
    if given_name and are_nicknames(a, b):
        return NameMatch(_SCORES[NICKNAME], NICKNAME)
    if given_name and _distinct_names(a, b):
        return NameMatch(_similarity(a, b) * 0.4, None)
    if given_name:
        a_tokens, b_tokens = set(a.split()), set(b.split())
        if min(len(a_tokens), len(b_tokens)) >= 1 and (a_tokens < b_tokens or b_tokens < a_tokens):
            return NameMatch(_SCORES[COMPOUND], COMPOUND)  # "Mary" / "Mary Ann"
    if DamerauLevenshtein.distance(a_compact, b_compact) <= typo_budget(a_compact, b_compact):
        return NameMatch(_SCORES[TYPO], TYPO)
    if jellyfish.metaphone(a_compact) == jellyfish.metaphone(b_compact) and (
        _similarity(a, b) >= 0.7
    ):
        return NameMatch(_SCORES[PHONETIC], PHONETIC)
    return NameMatch(_similarity(a, b) * 0.4, None)


def _similarity(a: str, b: str) -> float:
    return JaroWinkler.similarity(a, b)


def last_name_tokens_overlap(a: str, b: str) -> bool:
    """'Garcia Lopez' and 'Lopez': a hyphenated name that gained or lost a part."""
    a_tokens, b_tokens = set(a.split()), set(b.split())
    return (
        a_tokens != b_tokens
        and bool(a_tokens & b_tokens)
        and (a_tokens <= b_tokens or b_tokens <= a_tokens)
    )
