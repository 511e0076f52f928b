"""Name normalisation for record linkage (人员比对).

Two ledgers write the same name differently: with spaces or a middle dot (阿依古丽·买买提), in
full-width characters, in traditional characters (張偉 for 张伟), or with a homophone typed by an
input method (张玮 for 张伟). ``name_key`` removes the first three differences; ``name_pinyin``
(without tones) makes homophones equal, so the linkage model can score them as near matches.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

SEPARATORS = frozenset(" \t\u3000·•‧・.")


@functools.lru_cache(maxsize=1)
def _to_simplified():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def name_key(name: str) -> str:
    """The name as linkage compares it: half-width, no spaces or dots, simplified characters."""
    text = unicodedata.normalize("NFKC", name or "")
    text = "".join(ch for ch in text if ch not in SEPARATORS and not ch.isspace())
    if not text:
        return ""
    return str(_to_simplified().convert(text)).lower()


def name_pinyin(name: str) -> str:
    """Pinyin of the normalised name without tones, syllables joined: 张伟 and 张玮 both give ``zhangwei``."""
    from pypinyin import lazy_pinyin

    key = name_key(name)
    return "".join(lazy_pinyin(key)) if key else ""


def surname_pinyin(name: str) -> str:
    """Pinyin of the first character (the surname in nearly every case): a cheap blocking key."""
    from pypinyin import lazy_pinyin

    key = name_key(name)
    return lazy_pinyin(key[0])[0] if key else ""


@dataclass(frozen=True)
class NameForms:
    key: str
    pinyin: str
    surname: str


def name_forms(name: str) -> NameForms:
    """All three forms at once (one traditional→simplified conversion)."""
    from pypinyin import lazy_pinyin

    key = name_key(name)
    if not key:
        return NameForms("", "", "")
    syllables = lazy_pinyin(key)
    return NameForms(key=key, pinyin="".join(syllables), surname=lazy_pinyin(key[0])[0])
