"""Search as users type it, through customers.selectors.customer_list (SQLite FTS5 and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from guanxi.core.search import (
    SearchParts,
    normalize,
    normalize_plate,
    normalize_query,
    search_document,
)
from guanxi.customers import selectors, services
from guanxi.customers.models import Asset, Customer
from guanxi.users.models import Team, User


def found(actor: User, q: str) -> set[str]:
    return set(selectors.customer_list(actor=actor, q=q).values_list("name", flat=True))


@pytest.fixture
def people(admin: User) -> dict[str, Customer]:
    """Five customers whose fields do not overlap except where a test says so."""
    zhang = services.customer_create(
        actor=admin,
        name="张伟",
        phones=["138 0013 8000"],
        emails=["zhang.wei@example.com"],
        member_no="M20240001",
        wechat_id="wxid_zw1988",
    )
    services.asset_create(
        actor=admin, customer=zhang, kind="vehicle", plate="粤B·12345", vin="LSVAU2180N2183294"
    )
    zeng = services.customer_create(actor=admin, name="曾小贤", phones=["139 1234 5678"])
    ouyang = services.customer_create(actor=admin, name="欧阳娜娜", emails=["nana@163.com"])
    company = services.customer_create(actor=admin, name="深圳华强建材有限公司", kind="company")
    services.contact_create(actor=admin, customer=company, name="李建国", phone="13711112222")
    wang = services.customer_create(actor=admin, name="王芳", phones=["021-62345678"])
    return {"zhang": zhang, "zeng": zeng, "ouyang": ouyang, "company": company, "wang": wang}


ZHANG, ZENG, OUYANG, COMPANY, WANG = "张伟", "曾小贤", "欧阳娜娜", "深圳华强建材有限公司", "王芳"


@pytest.mark.parametrize(
    ("q", "names"),
    [
        # any part of the name: 1, 2, 3 characters
        ("张", {ZHANG}),
        ("伟", {ZHANG}),
        ("张伟", {ZHANG}),
        ("小贤", {ZENG}),
        ("曾小贤", {ZENG}),
        ("娜娜", {OUYANG}),
        ("欧阳娜", {OUYANG}),
        # full pinyin, with and without space, any case
        ("zhangwei", {ZHANG}),
        ("zhang wei", {ZHANG}),
        ("ZhangWei", {ZHANG}),
        ("ouyangnana", {OUYANG}),
        ("xiaoxian", {ZENG}),
        # initials
        ("zw", {ZHANG}),
        ("ZW", {ZHANG}),
        ("oynn", {OUYANG}),
        # the surname read as a surname
        ("zeng", {ZENG}),
        ("zengxiaoxian", {ZENG}),
        ("zxx", {ZENG}),
        ("ZXX", {ZENG}),
        # phone digits anywhere in the number, as typed
        ("0013", {ZHANG}),
        ("8000", {ZHANG}),
        ("138-0013", {ZHANG}),
        ("138 0013 8000", {ZHANG}),
        ("13800138000", {ZHANG}),
        ("+86 138 0013 8000", {ZHANG}),
        ("5678", {ZENG, WANG}),
        ("2345", {ZHANG, ZENG, WANG}),  # 张伟 by his plate 粤B12345
        ("6234 5678", {WANG}),
        ("１３８００１３８０００", {ZHANG}),
        # email parts
        ("zhang.wei", {ZHANG}),
        ("example.com", {ZHANG}),
        ("ZHANG.WEI@EXAMPLE.COM", {ZHANG}),
        ("163.com", {OUYANG}),
        # licence plate with and without the province, any case, with a space
        ("粤B12345", {ZHANG}),
        ("粤b 12345", {ZHANG}),
        ("b12345", {ZHANG}),
        ("B12345", {ZHANG}),
        # company name, its pinyin, and a contact's name finds the company
        ("华强", {COMPANY}),
        ("华强建材", {COMPANY}),
        ("huaqiang", {COMPANY}),
        ("李建国", {COMPANY}),
        ("建国", {COMPANY}),
        ("ljg", {COMPANY}),
        ("1371111", {COMPANY}),
        # VIN fragment, member number, WeChat ID
        ("2180N218", {ZHANG}),
        ("lsvau", {ZHANG}),
        ("M20240001", {ZHANG}),
        ("m2024", {ZHANG}),
        ("wxid_zw", {ZHANG}),
    ],
)
def test_customer_list_finds_by(admin: User, people: dict[str, Customer], q: str, names: set[str]) -> None:
    # when
    result = found(admin, q)

    # then
    assert result == names


@pytest.mark.parametrize("q", ["粤B·12345", "粤B-12345", "b·12345"])
def test_customer_list_finds_a_plate_typed_with_its_separator(
    admin: User, people: dict[str, Customer], q: str
) -> None:
    assert found(admin, q) == {ZHANG}


@pytest.mark.parametrize("q", ["021-62345678", "(021) 6234 5678", "02162345678"])
def test_customer_list_finds_a_landline_typed_with_its_area_code(
    admin: User, people: dict[str, Customer], q: str
) -> None:
    assert found(admin, q) == {WANG}


@pytest.mark.parametrize(
    "q",
    [
        "zw1380",  # initials then phone digits
        "zhangwei13800138000",  # pinyin then phone
        "weizhang",  # syllables in the wrong order
        "8000zhang",
        "example.com粤b",  # email then plate
        "zw|1380",  # the separator itself
        "伟张",
        "zwzx",
    ],
)
def test_customer_list_does_not_match_across_field_boundaries(
    admin: User, people: dict[str, Customer], q: str
) -> None:
    assert found(admin, q) == set()


@pytest.mark.parametrize(
    "q",
    ['"', "'", "*", "AND", "a OR b", "NEAR(a b)", "%", "_", "%%%", "\\", "(", "😀", '张"伟', "-", "zw*", "^"],
)
def test_customer_list_takes_any_text_without_error(admin: User, people: dict[str, Customer], q: str) -> None:
    # when
    result = found(admin, q)

    # then nothing matches by accident, and the database did not choke on the query syntax
    assert result == set()


def test_customer_list_with_an_empty_or_blank_query_returns_everything(
    admin: User, people: dict[str, Customer]
) -> None:
    assert found(admin, "") == {ZHANG, ZENG, OUYANG, COMPANY, WANG}
    assert found(admin, "   ") == {ZHANG, ZENG, OUYANG, COMPANY, WANG}


def test_a_name_change_changes_what_search_finds(admin: User, people: dict[str, Customer]) -> None:
    # when
    services.customer_update(actor=admin, customer=people["zhang"], name="张强")

    # then
    assert found(admin, "伟") == set()
    assert found(admin, "zw") == set()
    assert found(admin, "zhangwei") == set()
    assert found(admin, "强") == {"张强", COMPANY}
    assert found(admin, "zq") == {"张强"}
    assert found(admin, "zhangqiang") == {"张强"}


def test_a_phone_change_changes_what_search_finds(admin: User, people: dict[str, Customer]) -> None:
    # when
    services.customer_update(actor=admin, customer=people["zhang"], phones=["186 6666 7777"])

    # then
    assert found(admin, "0013") == set()
    assert found(admin, "6666 7777") == {ZHANG}


def test_an_asset_removal_changes_what_search_finds(admin: User, people: dict[str, Customer]) -> None:
    # given
    asset = Asset.objects.get(customer=people["zhang"])

    # when
    services.asset_delete(actor=admin, asset=asset)

    # then
    assert found(admin, "b12345") == set()
    assert found(admin, "2180N218") == set()
    assert found(admin, "zw") == {ZHANG}


def test_a_contact_change_and_removal_change_what_search_finds(
    admin: User, people: dict[str, Customer]
) -> None:
    # given
    contact = people["company"].contacts.get()

    # when renamed
    services.contact_update(actor=admin, contact=contact, name="赵敏")

    # then
    assert found(admin, "建国") == set()
    assert found(admin, "赵敏") == {COMPANY}

    # when removed
    services.contact_delete(actor=admin, contact=contact)

    # then
    assert found(admin, "赵敏") == set()
    assert found(admin, "华强") == {COMPANY}


def test_a_deleted_customer_is_no_longer_found(admin: User, people: dict[str, Customer]) -> None:
    # when
    services.customer_delete(actor=admin, customer=people["zhang"])

    # then
    assert found(admin, "zw") == set()
    assert found(admin, "0013") == set()


def test_search_never_returns_a_customer_outside_the_actors_scope(
    admin: User, make_user: Callable[..., User], team_a: Team, team_b: Team
) -> None:
    # given two sales people with a 张伟 each, and a viewer in the second one's team
    alice = make_user("sales", team=team_a)
    bob = make_user("sales", team=team_b)
    viewer_b = make_user("viewer", team=team_b)
    services.customer_create(actor=alice, name="张伟", phones=["138 0013 8000"])
    services.customer_create(actor=bob, name="张伟", phones=["138 0013 8001"])

    # then each sees only their own, whatever the query
    for q in ["张伟", "zw", "zhangwei", "1380013", "伟"]:
        assert [c.owner for c in selectors.customer_list(actor=alice, q=q)] == [alice], q
        assert [c.owner for c in selectors.customer_list(actor=bob, q=q)] == [bob], q
        assert [c.owner for c in selectors.customer_list(actor=viewer_b, q=q)] == [bob], q
        assert {c.owner for c in selectors.customer_list(actor=admin, q=q)} == {alice, bob}, q


def test_search_combines_with_filters(admin: User, people: dict[str, Customer]) -> None:
    # given
    services.customer_update(actor=admin, customer=people["zeng"], stage="customer")

    # then
    assert set(
        selectors.customer_list(actor=admin, q="5678", stage="customer").values_list("name", flat=True)
    ) == {ZENG}
    assert set(selectors.customer_list(actor=admin, q="5678", kind="company")) == set()


# The normalising functions the index and the queries share.


def test_normalize_folds_width_case_and_space() -> None:
    assert normalize(" ＺＨＡＮＧ Wei ") == "zhangwei"
    assert normalize("a|b") == "ab"
    assert normalize("") == ""


def test_normalize_plate() -> None:
    assert normalize_plate("粤b·12345") == "粤B12345"
    assert normalize_plate(" 京A-0000_1 ") == "京A00001"
    assert normalize_plate("") == ""


@pytest.mark.parametrize(
    ("q", "term"),
    [
        ("138-0013", "1380013"),
        ("+86 (138) 0013", "861380013"),
        ("１３８ ００１３", "1380013"),
        ("12", "12"),
        ("ZW", "zw"),
        (" zhang wei ", "zhangwei"),
        ("", ""),
    ],
)
def test_normalize_query(q: str, term: str) -> None:
    assert normalize_query(q) == term


def test_search_document_holds_every_searchable_value_once() -> None:
    # given
    parts = SearchParts(
        names=[("张伟", True), ("张伟", True)],
        phones=["+8613800138000"],
        emails=["Zhang.Wei@Example.com"],
        plates=["粤B·12345"],
        codes=["LSVAU2180N2183294", ""],
    )

    # when
    text, keys = search_document(parts)

    # then
    assert (
        text == "张伟|zhangwei|zw|13800138000|8613800138000|zhang.wei@example.com|粤b12345|lsvau2180n2183294"
    )
    assert keys.split() == sorted(
        ["an", "ei", "gw", "ha", "ng", "w", "we", "z", "zh", "zw", "伟", "张", "张伟"]
    )


def test_search_document_of_nothing_is_empty() -> None:
    assert search_document(SearchParts()) == ("", "")


def test_customer_list_search_is_applied_in_the_database(
    admin: User, people: dict[str, Customer], django_assert_max_num_queries: Any
) -> None:
    # the search is one filter in the list query, not a query per customer
    with django_assert_max_num_queries(4):
        list(selectors.customer_list(actor=admin, q="zw"))


# A search that reads only the first rows (`window`): on PostgreSQL the newest matches are found by walking
# the newest rows, then through the index (core.search._pg_newest); the answer must be the full search's.


@pytest.fixture
def crowd(admin: User, make_user: Callable[..., User]) -> dict[str, User]:
    """60 customers: 王 in every second name, 李建 in every seventh, 欧阳 in two; two owners."""
    seller = make_user("sales")
    for i in range(60):
        surname = "王" if i % 2 else ("李建" if i % 7 == 0 else "赵")
        name = f"欧阳{i}" if i in (3, 41) else f"{surname}{chr(0x4E00 + i)}"
        services.customer_create(actor=admin, name=name, owner=seller if i % 3 else admin)
    return {"admin": admin, "sales": seller}


WALKS = {
    "walk, then the index": {},
    "many short walks": {"PG_FIRST_WALK": 3, "PG_MAX_WALK": 4, "PG_MAX_WALKS": 20, "PG_INDEX_COST": 10**6},
    "index at once": {"PG_FIRST_WALK": 2, "PG_INDEX_COST": 0},
}


@pytest.mark.parametrize("walk", list(WALKS))
@pytest.mark.parametrize("q", ["王", "wang", "lj", "李建", "oy", "欧阳", "ouyang4", "nobody"])
@pytest.mark.parametrize("who", ["admin", "sales"])
def test_a_windowed_search_finds_what_the_full_search_finds(
    crowd: dict[str, User], monkeypatch: pytest.MonkeyPatch, walk: str, q: str, who: str
) -> None:
    for name, value in WALKS[walk].items():
        monkeypatch.setattr(f"guanxi.core.search.{name}", value)
    actor = crowd[who]
    everything = list(selectors.customer_list(actor=actor, q=q).values_list("pk", flat=True))
    for offset, limit in [(0, 1), (0, 5), (5, 5), (0, 60), (20, 10)]:
        window = offset + limit + 1
        page = selectors.customer_list(actor=actor, q=q, window=window)[offset:window]
        assert [c.pk for c in page] == everything[offset:window], (offset, limit)


def test_a_windowed_search_sorted_otherwise_is_the_full_search(crowd: dict[str, User]) -> None:
    by_name = selectors.customer_list(actor=crowd["admin"], q="王", sort="name", window=3)
    assert [c.name for c in by_name[:3]] == sorted(
        selectors.customer_list(actor=crowd["admin"], q="王").values_list("name", flat=True)
    )[:3]
