"""Pinyin of names: surnames read as surnames, compound surnames, Latin letters kept."""

from __future__ import annotations

import pytest

from guanxi.core.pinyin import COMPOUND_SURNAMES, SINGLE_SURNAMES, name_pinyin, name_syllables


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("张伟", "zhangwei", "zw"),
        ("王芳", "wangfang", "wf"),
        ("李秀英", "lixiuying", "lxy"),
        ("曾小贤", "zengxiaoxian", "zxx"),
        ("曾伟", "zengwei", "zw"),
        ("单田芳", "shantianfang", "stf"),
        ("解缙", "xiejin", "xj"),
        ("仇英", "qiuying", "qy"),
        ("区志明", "ouzhiming", "ozm"),
        ("查良镛", "zhaliangyong", "zly"),
        ("朴树", "piaoshu", "ps"),
        ("欧阳娜娜", "ouyangnana", "oynn"),
        ("长孙无忌", "zhangsunwuji", "zswj"),
        ("诸葛亮", "zhugeliang", "zgl"),
        ("司马光", "simaguang", "smg"),
        ("单于丹", "chanyudan", "cyd"),
        ("尉迟恭", "yuchigong", "ycg"),
    ],
)
def test_name_pinyin_reads_surnames_as_surnames(name: str, full: str, initials: str) -> None:
    # when
    result = name_pinyin(name)

    # then
    assert result == (full, initials)


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("Tony张", "tonyzhang", "tz"),
        ("张 Tony Lee", "zhangtonylee", "ztl"),
        ("Lee Ming", "leeming", "lm"),
        ("李小龙2号", "lixiaolong2hao", "lxl2h"),
        ("ABC公司", "abcgongsi", "ags"),
    ],
)
def test_name_pinyin_keeps_latin_runs_as_one_syllable(name: str, full: str, initials: str) -> None:
    assert name_pinyin(name) == (full, initials)


def test_name_pinyin_reads_full_width_latin_as_half_width() -> None:
    assert name_pinyin("ＡＢＣ公司", person=False) == ("abcgongsi", "ags")


def test_name_pinyin_of_a_company_does_not_read_the_first_character_as_a_surname() -> None:
    # 曾 as a word is "ceng" (曾经); a company is not a person with a surname
    assert name_pinyin("曾经理", person=False) == ("cengjingli", "cjl")
    assert name_pinyin("曾经理", person=True) == ("zengjingli", "zjl")


@pytest.mark.parametrize(
    ("name", "full"),
    [("中国银行", "zhongguoyinhang"), ("重庆汽车", "chongqingqiche"), ("长城汽车", "changchengqiche")],
)
def test_name_pinyin_of_a_company_reads_words_as_words(name: str, full: str) -> None:
    assert name_pinyin(name, person=False)[0] == full


def test_name_pinyin_ignores_punctuation_and_spaces() -> None:
    assert name_pinyin(" 张·伟 ") == ("zhangwei", "zw")


def test_name_pinyin_of_an_empty_name_is_empty() -> None:
    assert name_pinyin("") == ("", "")
    assert name_pinyin("   ") == ("", "")


def test_name_syllables_splits_surname_and_given_name() -> None:
    assert name_syllables("欧阳娜娜") == ["ou", "yang", "na", "na"]
    assert name_syllables("曾小贤") == ["zeng", "xiao", "xian"]


def test_every_listed_surname_reading_is_plain_lower_case_pinyin() -> None:
    readings = [*SINGLE_SURNAMES.values(), *(s for v in COMPOUND_SURNAMES.values() for s in v.split())]
    assert all(r.isascii() and r.isalpha() and r == r.lower() for r in readings)
    assert all(len(k) == 1 for k in SINGLE_SURNAMES)
    assert all(len(k) == 2 and len(v.split()) == 2 for k, v in COMPOUND_SURNAMES.items())
