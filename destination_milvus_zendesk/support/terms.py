"""The words a query shares with a ticket or an article, computed in Python on the two texts.

Milvus's BM25 scores depend on what the collection holds (its document frequencies and lengths),
so a threshold fitted on one collection does not hold on another. This overlap depends only on the
two texts: which of the query's content words (stop words and support small talk left out,
reduced to a crude stem so that "charged" meets "charge") the other text also has.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOP_WORDS = frozenset("""
a about above after again against all also am an and any anyone are aren't as at be because been before being below
between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each either
else even ever every few for from further get gets getting got had hadn't has hasn't have haven't having he her here
hers herself him himself his how i i'd i'm i've if in into is isn't it it's its itself just let's me might more most
must my myself need needs no nor not now of off on once one only or other our ours ourselves out over own please
same shall she should shouldn't since so some someone something still such than that that's the their theirs them
themselves then there there's these they they're this those through to too under until up upon us very was wasn't
we we're we've were weren't what what's when where which while who whom why will with won't would wouldn't yet you
you're your yours yourself hi hello hey dear thanks thank regards cheers best kind morning team support help issue
problem question anything everything today yesterday tomorrow week month morning afternoon again already really
quick asap urgent fwd re via able way
""".split())
_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ed", "ies", "es", "s", "ly", "e")


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A crude English stem: the longest common suffix off (keeping 3 letters), a doubled last
    consonant undone ("setting" -> "set"). Equal stems are the point, not linguistics."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]
    return word


@dataclass(frozen=True)
class Words:
    """A text read for comparison: its content words (stem -> the first spelling), and what another
    text's words are looked up in: those stems, and each pair of neighbouring words written as one
    ("time out" also reads "timeout", "log in" "login", "set up" "setup")."""
    content: dict[str, str]
    joined: dict[str, frozenset[str]]  # content stem -> the joined forms it takes part in
    vocabulary: frozenset[str]

    @classmethod
    def of(cls, text: str) -> "Words":
        """Cached (the same tickets are read lookup after lookup); callers only read the result."""
        return _read_words(text)

    @classmethod
    def _read(cls, text: str) -> "Words":
        tokens = [w.removesuffix("'s") for w in _WORD.findall(text.lower())]
        pairs = [_joined(a, b) for a, b in zip(tokens, tokens[1:])]
        content: dict[str, str] = {}
        joined: dict[str, set[str]] = {}
        for n, word in enumerate(tokens):
            if _is_content(word):
                key = stem(word)
                content.setdefault(key, word)
                joined.setdefault(key, set()).update(j for j in pairs[max(0, n - 1):n + 1] if j)
        vocabulary = frozenset(content) | frozenset(j for j in pairs if j)
        return cls(content, {k: frozenset(v) for k, v in joined.items()}, vocabulary)


@functools.lru_cache(maxsize=8192)
def _read_words(text: str) -> Words:
    return Words._read(text)


def _is_content(word: str) -> bool:
    return word not in STOP_WORDS and not word.isdigit() and len(word) >= 2


def _joined(a: str, b: str) -> str:
    """Two neighbouring words written as one, stemmed; "" unless both are words."""
    return stem(a + b) if a.isalpha() and b.isalpha() else ""


def shared_words(words: Words, other: Words) -> list[str]:
    """`words`' content words (as written) that `other` has too, also as part of a compound, in order."""
    return [word for key, word in words.content.items()
            if key in other.vocabulary or words.joined.get(key, frozenset()) & other.vocabulary]


def coverage(words: Words, other: Words) -> float:
    """The share of `words`' content words that `other` has (0 when there are none)."""
    return len(shared_words(words, other)) / len(words.content) if words.content else 0.0
