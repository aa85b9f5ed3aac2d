"""Pinyin of names, with surnames read as surnames (曾 is "zeng" in 曾伟, not "ceng").

pypinyin reads a character by its most common use as a word; many surnames read otherwise as a word
(单 dan/shan, 解 jie/xie, 仇 chou/qiu). A person's name is read character by character after the surname;
a company's name is read word by word with pypinyin's phrase dictionary (银行 yinhang, 重庆 chongqing).

Bulk conversion is cached: pypinyin converts about 7k company names a second, so characters, dictionary
words and whole company names are each cached, and a million demo names take seconds.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from pypinyin.seg.simpleseg import seg

# Surnames whose reading as a surname differs from pypinyin's default reading of the character.
SINGLE_SURNAMES = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "查": "zha",
    "朴": "piao",
    "盖": "ge",
    "覃": "qin",
    "乐": "yue",
    "缪": "miao",
    "召": "shao",
    "翟": "zhai",
    "秘": "bi",
    "黑": "he",
    "繁": "po",
    "员": "yun",
    "种": "chong",
    "折": "she",
    "句": "gou",
    "柏": "bai",
    "冼": "xian",
    "薄": "bo",
    "牟": "mou",
    "隗": "wei",
    "莘": "shen",
    "祭": "zhai",
    "谌": "chen",
    "阚": "kan",
    "尉": "wei",
    "重": "chong",
    "宿": "su",
    "藏": "zang",
    "都": "du",
    "长": "chang",
    "沈": "shen",
    "任": "ren",
    "华": "hua",
    "葛": "ge",
    "纪": "ji",
    "燕": "yan",
    "卜": "bu",
    "相": "xiang",
    "过": "guo",
    "佴": "nai",
    "訾": "zi",
    "郇": "huan",
    "殷": "yin",
    "贲": "ben",
    "蕃": "pi",
    "角": "jue",
    "朝": "chao",
    "厍": "she",
    "石": "shi",
}
COMPOUND_SURNAMES = {
    "欧阳": "ou yang",
    "司马": "si ma",
    "诸葛": "zhu ge",
    "上官": "shang guan",
    "东方": "dong fang",
    "皇甫": "huang fu",
    "司徒": "si tu",
    "令狐": "ling hu",
    "慕容": "mu rong",
    "宇文": "yu wen",
    "夏侯": "xia hou",
    "轩辕": "xuan yuan",
    "公孙": "gong sun",
    "端木": "duan mu",
    "单于": "chan yu",
    "澹台": "tan tai",
    "尉迟": "yu chi",
    "万俟": "mo qi",
    "长孙": "zhang sun",
    "呼延": "hu yan",
    "南宫": "nan gong",
    "闻人": "wen ren",
    "赫连": "he lian",
    "钟离": "zhong li",
    "宗政": "zong zheng",
    "濮阳": "pu yang",
    "公冶": "gong ye",
}


def _as_is(text: str) -> str:
    """Letters pypinyin has no reading for (アイ, é) stay as they are, a run of them one syllable."""
    return text.lower()


@lru_cache(maxsize=65536)
def _char(ch: str) -> str:
    return lazy_pinyin(ch, style=Style.NORMAL, errors=_as_is)[0].lower()


@lru_cache(maxsize=65536)
def _word(word: str) -> tuple[str, ...]:
    return tuple(s.lower() for s in lazy_pinyin(word, style=Style.NORMAL, errors=_as_is))


def _words(text: str) -> list[str]:
    """Syllables of a run of characters read as words: pypinyin's segmentation, each word cached."""
    return [syllable for word in seg(text) for syllable in _word(word)]


def _chars(text: str) -> list[str]:
    return [_char(ch) for ch in text]


def _syllables(text: str, *, words: bool) -> list[str]:
    """Latin letters and digits grouped into one syllable per run; other letters read as pinyin, as words
    or character by character. Spaces and punctuation end a run."""
    read = _words if words else _chars
    syllables: list[str] = []
    latin = han = ""
    for ch in text:
        if ch.isascii() and ch.isalnum():
            latin += ch.lower()
            if han:
                syllables += read(han)
                han = ""
            continue
        if latin:
            syllables.append(latin)
            latin = ""
        if ch.isalnum():
            han += ch
        elif han:
            syllables += read(han)
            han = ""
    if latin:
        syllables.append(latin)
    if han:
        syllables += read(han)
    return syllables


@lru_cache(maxsize=16384)
def _company(name: str) -> tuple[str, ...]:
    return tuple(_syllables(name, words=True))


def name_syllables(name: str, *, person: bool = True) -> list[str]:
    """Syllables of a name: a person's surname first, then character by character; a company word by word.

    The name is NFKC-normalised first, so full-width Latin letters and digits (ＡＢＣ, １２) read as ABC, 12.
    """
    name = unicodedata.normalize("NFKC", name).strip()
    if not person:
        return list(_company(name))
    syllables: list[str] = []
    rest = name
    if name[:2] in COMPOUND_SURNAMES:
        syllables += COMPOUND_SURNAMES[name[:2]].split()
        rest = name[2:]
    elif name[:1] in SINGLE_SURNAMES:
        syllables.append(SINGLE_SURNAMES[name[0]])
        rest = name[1:]
    return syllables + _syllables(rest, words=False)


def name_pinyin(name: str, *, person: bool = True) -> tuple[str, str]:
    """(full pinyin without spaces, initials): 张伟 → ("zhangwei", "zw"); 曾小贤 → ("zengxiaoxian", "zxx")."""
    syllables = name_syllables(name, person=person)
    return "".join(syllables), "".join(s[0] for s in syllables if s)
