"""Tokens of open text in Chinese and English, each with its character span in the original.

Chinese runs are segmented with jieba; other words are case-folded and reduced to their
Snowball (Porter 2) stem, so "refunds", "Refunded" and "refund" are one term. Matching topic
rules on tokens rather than substrings keeps "late" from matching inside "chocolate" and a
Chinese keyword from matching across two words that merely share characters. Pure: no
database, safe in any process.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN_RE = re.compile(rf"(?P<cjk>[{CJK}]+)|(?P<word>[^\W_{CJK}]+(?:['’][^\W_{CJK}]+)*)")
_stemmer = snowballstemmer.stemmer("english")
_jieba_lock = threading.Lock()  # jieba's dictionary is global and loads lazily
_added_words: set[str] = set()


@lru_cache(maxsize=1)
def _jieba():
    """jieba, imported when Chinese text is first segmented: a web process that never tags
    (full mode: tagging runs in the worker) does not pay for the import."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


@dataclass(frozen=True)
class Token:
    norm: str  # what is compared: the stem of a word, or a Chinese word as segmented
    start: int  # span in the original text
    end: int


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word.casefold().replace("’", "'"))


def add_words(words: list[str]) -> None:
    """Teach jieba the Chinese keywords of topic rules, so a keyword is segmented as one word
    wherever it appears (the usual user-dictionary step of jieba)."""
    new = [w for w in words if re.fullmatch(f"[{CJK}]+", w) and w not in _added_words]
    if not new:
        return
    with _jieba_lock:
        for word in new:
            _jieba().add_word(word)
            _added_words.add(word)


def tokens(text: str) -> list[Token]:
    out: list[Token] = []
    for match in TOKEN_RE.finditer(text or ""):
        if match.group("word"):
            out.append(Token(_stem(match.group("word")), match.start(), match.end()))
            continue
        base = match.start()
        with _jieba_lock:
            pieces = list(_jieba().tokenize(match.group("cjk")))
        out.extend(Token(word, base + start, base + end) for word, start, end in pieces)
    return out


def terms(text: str) -> tuple[str, ...]:
    """The normalized token sequence of a keyword or phrase."""
    return tuple(t.norm for t in tokens(text))


def is_chinese(text: str) -> bool:
    """More CJK characters than Latin letters."""
    cjk = len(re.findall(f"[{CJK}]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return cjk > latin
