"""Instruction templates with alternatives: ``"[Go|Head] to {room}"`` picks one alternative in each
``[...|...]`` group, then fills the ``{slots}``.

Alternatives are expanded before the slots are filled, so slot values (room names, messages) are
inserted as they are. Groups do not nest.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

_GROUP = re.compile(r"\[([^\[\]]*)\]")
_SPACES = re.compile(r" {2,}")
_SENTENCE_START = re.compile(r"(^|[.?!] )([a-z])")
_ARTICLE = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])")

# Ways to say "come back and tell me ...", each followed by what to tell.
REPORT_BACK = (
    "[come back|return|head back] and [tell me|let me know]",
    "[report back to me|get back to me] and [tell me|say]",
    "[once you're back|when you return|after returning], [tell me|let me know]",
    "[then come back here|afterwards come back here|then return to me] and [say|tell me]",
)


def expand(template: str, rng: random.Random) -> str:
    """One variant of ``template``: each ``[a|b|c]`` group replaced by one of its alternatives."""
    text = _GROUP.sub(lambda match: rng.choice(match.group(1).split("|")), template)
    return _SPACES.sub(" ", text).strip()


def phrase(templates: Sequence[str], rng: random.Random, **slots: str) -> str:
    """An instruction from one of ``templates``: alternatives expanded, slots filled, sentences capitalised."""
    text = with_articles(expand(rng.choice(templates), rng).format(**slots))
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def with_articles(text: str) -> str:
    """``a`` before a vowel becomes ``an`` (``a umbrella`` -> ``an umbrella``)."""
    return _ARTICLE.sub(r"\1n ", text)


def report_back(rng: random.Random) -> str:
    """A "come back and tell me" phrase, to be followed by what to tell."""
    return expand(rng.choice(REPORT_BACK), rng)


def human_list(items: Sequence[str], conjunction: str = "or") -> str:
    """``a, b, or c`` (``a or b`` for two)."""
    items = list(items)
    if len(items) <= 2:
        return f" {conjunction} ".join(items)
    return ", ".join(items[:-1]) + f", {conjunction} " + items[-1]
