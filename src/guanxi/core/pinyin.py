"""Pinyin of names, with surnames read as surnames (曾 is "zeng" in 曾伟, not "ceng").

pypinyin reads a character by its most common use as a word; many surnames read otherwise as a word
(单 dan/shan, 解 jie/xie, 仇 chou/qiu). Bulk conversion is cached by character: pypinyin converts about
12k names a second, the cache makes a million demo names take seconds.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin

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


@lru_cache(maxsize=65536)
def _char(ch: str) -> str:
    return lazy_pinyin(ch, style=Style.NORMAL, errors=lambda s: s.lower())[0].lower()


def _chars(text: str) -> list[str]:
    return [_char(ch) for ch in text]


def name_syllables(name: str, *, person: bool = True) -> list[str]:
    """Syllables of a name: surname first when `person`, then character by character.

    Latin letters and digits stay as they are, grouped into one syllable per run.
    """
    name = name.strip()
    syllables: list[str] = []
    rest = name
    if person:
        if name[:2] in COMPOUND_SURNAMES:
            syllables += COMPOUND_SURNAMES[name[:2]].split()
            rest = name[2:]
        elif name[:1] in SINGLE_SURNAMES:
            syllables.append(SINGLE_SURNAMES[name[0]])
            rest = name[1:]
    run = ""
    for ch in rest:
        if ch.isascii():
            if ch.isalnum():
                run += ch.lower()
            elif run:
                syllables.append(run)
                run = ""
            continue
        if run:
            syllables.append(run)
            run = ""
        if ch.isspace() or not ch.isalnum():
            continue
        syllables.append(_char(ch))
    if run:
        syllables.append(run)
    return syllables


def name_pinyin(name: str, *, person: bool = True) -> tuple[str, str]:
    """(full pinyin without spaces, initials): 张伟 → ("zhangwei", "zw"); 曾小贤 → ("zengxiaoxian", "zxx")."""
    syllables = name_syllables(name, person=person)
    return "".join(syllables), "".join(s[0] for s in syllables if s)
