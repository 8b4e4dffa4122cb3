"""Matching people's names written differently across files ("Łukasz Krupiński", "Lukasz Krupinski",
"Krupinski Ł.", "Yike (Tony) Yang" / "Tony Yike Yang", "Chistiakova G.")."""

from __future__ import annotations

import difflib
import re
import unicodedata

_LETTERS = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss"})


def name_tokens(name: str) -> tuple[str, ...]:
    """Lower-case ASCII tokens, sorted: accents, hyphens, brackets and order do not matter."""
    text = unicodedata.normalize("NFKD", name.translate(_LETTERS))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return tuple(sorted(re.sub(r"[^a-z?]+", " ", text.lower()).replace("?", "").split()))


def name_similarity(a: str, b: str) -> float:
    ta, tb = name_tokens(a), name_tokens(b)
    if not ta or not tb:
        return 0.0
    if ta == tb:
        return 1.0
    short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    full = [t for t in short if len(t) > 1]
    if full and all(t in long_ for t in full) and all(any(u.startswith(t) for u in long_) for t in short if len(t) == 1):
        return 0.95  # the same words, with initials or a middle name left out
    return difflib.SequenceMatcher(None, " ".join(ta), " ".join(tb)).ratio()


def match_name(name: str, candidates: list[str], threshold: float = 0.8) -> str | None:
    """The candidate most similar to ``name`` if it is similar enough and not tied with another."""
    tokens = name_tokens(name)
    exact = [c for c in candidates if name_tokens(c) == tokens]
    if len(exact) == 1:
        return exact[0]
    scored = sorted(((name_similarity(name, c), c) for c in candidates), reverse=True)
    if not scored or scored[0][0] < threshold:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None
    return scored[0][1]
