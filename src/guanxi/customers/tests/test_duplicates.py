"""Duplicate rules and scores, the actor's scope, and query counts independent of the data's size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.errors import PermissionDenied
from guanxi.customers.duplicates import (
    EMAIL,
    NAME_ADDRESS,
    NAME_PHONE,
    PHONE,
    WECHAT,
    customer_duplicates_refresh,
    customer_duplicates_refresh_request,
    customer_matches_many,
    duplicate_pairs,
    name_key,
    score_of,
)
from guanxi.customers.models import Customer
from guanxi.users.models import Team, User

Make = Callable[..., Any]


def pairs_of(actor: User, **options: Any) -> list[tuple[str, str, int, list[str]]]:
    customer_duplicates_refresh()
    page = duplicate_pairs(actor=actor, **options)
    return [(p.a.name, p.b.name, p.score, p.reasons) for p in page.items]


def test_name_key_reads_pinyin_for_chinese_and_the_plain_name_otherwise() -> None:
    assert name_key("张伟") == name_key("章伟") == "zhangwei"
    assert name_key("张 伟") == "zhangwei"
    assert name_key("John") == "john"
    assert name_key("") == ""


def test_scores_take_the_best_rule_and_a_bonus_per_further_rule() -> None:
    assert score_of([PHONE]) == 100
    assert score_of([EMAIL]) == score_of([WECHAT]) == 95
    assert score_of([NAME_PHONE]) == 75
    assert score_of([NAME_ADDRESS]) == 65
    assert score_of([NAME_PHONE, NAME_ADDRESS]) == 80
    assert score_of([PHONE, EMAIL, WECHAT]) == 100


def test_the_same_mobile_email_or_wechat_makes_a_pair(admin: User, make_customer: Make) -> None:
    # given
    make_customer(admin, name="张伟", phones=["13800138000"])
    make_customer(admin, name="Zhang Wei", phones=["+86 138 0013 8000"])
    make_customer(admin, name="李娜", emails=["Li.Na@Example.com"])
    make_customer(admin, name="李娜娜", emails=["li.na@example.com"])
    make_customer(admin, name="王芳", wechat_id="wf888")
    make_customer(admin, name="王小芳", wechat_id="wf888")
    make_customer(admin, name="无关", phones=["13900139000"], wechat_id="other")

    # when
    found = pairs_of(admin)

    # then
    assert found == [
        ("张伟", "Zhang Wei", 100, [PHONE]),
        ("王芳", "王小芳", 95, [WECHAT]),
        ("李娜", "李娜娜", 95, [EMAIL]),
    ]


def test_a_name_in_pinyin_with_a_phone_ending_alike_or_the_same_address_is_likely(
    admin: User, make_customer: Make
) -> None:
    # given
    make_customer(admin, name="张伟", phones=["13800138000"])
    make_customer(admin, name="章伟", phones=["13912348000"])  # same pinyin, same last 4 digits
    make_customer(admin, name="刘洋", city="深圳市", district="南山区", street="科技园路1号")
    make_customer(admin, name="刘 洋", city="深圳市", district="南山区", street="科技园路1号")
    # the same street in another district is another address
    make_customer(admin, name="刘洋", city="深圳市", district="福田区", street="科技园路1号")
    make_customer(admin, name="陈静", phones=["13700001111"])
    make_customer(admin, name="陈晶晶", phones=["13600001111"])  # other name: no pair

    # when
    found = pairs_of(admin)

    # then
    assert found == [
        ("张伟", "章伟", 75, [NAME_PHONE]),
        ("刘洋", "刘 洋", 65, [NAME_ADDRESS]),
    ]


def test_pairs_are_paged_best_first(admin: User, make_customer: Make) -> None:
    for i in range(3):
        make_customer(admin, name=f"甲{i}", phones=[f"1380013800{i}"])
        make_customer(admin, name=f"乙{i}", phones=[f"1380013800{i}"])
    make_customer(admin, name="丙", emails=["b@example.com"])
    make_customer(admin, name="丁", emails=["b@example.com"])
    customer_duplicates_refresh()

    first = duplicate_pairs(actor=admin, limit=3)
    second = duplicate_pairs(actor=admin, limit=3, offset=first.next_offset or 0)

    assert [p.score for p in first.items] == [100, 100, 100]
    assert first.next_offset == 3
    assert [(p.a.name, p.score) for p in second.items] == [("丙", 95)]
    assert second.next_offset is None


def test_a_sales_user_never_sees_a_pair_with_someone_elses_customer(
    make_user: Make, make_customer: Make, team_b: Team
) -> None:
    # given: a manager of team A, a sales user in team A, another sales user in team B
    manager = make_user("manager")
    mine = make_user("sales")
    stranger = make_user("sales", team=team_b)
    admin = make_user("admin")
    make_customer(admin, name="张伟", phones=["13800138000"], owner=mine)
    make_customer(admin, name="张伟", phones=["13800138000"], owner=stranger)
    make_customer(admin, name="李娜", phones=["13900139000"], owner=mine)
    make_customer(admin, name="李娜", phones=["13900139000"], owner=manager)

    # then: a manager sees the pair within the team; the one across teams only the administrator
    assert [(a, b) for a, b, *_ in pairs_of(manager)] == [("李娜", "李娜")]
    assert len(pairs_of(admin)) == 2
    with pytest.raises(PermissionDenied):
        duplicate_pairs(actor=mine)  # sales may not merge, so may not list duplicates


@pytest.mark.parametrize("n", [1, 6])
def test_duplicate_pairs_reads_in_a_fixed_number_of_queries(
    admin: User, make_customer: Make, n: int, django_assert_num_queries: Any
) -> None:
    for i in range(n):
        make_customer(admin, name=f"客户{i}", phones=[f"1380013{i:04d}"], emails=[f"c{i}@example.com"])
        make_customer(admin, name=f"客户{i}", phones=[f"1380013{i:04d}"], emails=[f"c{i}@example.com"])
    customer_duplicates_refresh()

    with django_assert_num_queries(5):  # the pairs, the customers, their phones, emails and tags
        page = duplicate_pairs(actor=admin)
    assert len(page.items) == n


def test_matches_many_finds_each_candidates_customers_with_score_and_reasons(
    admin: User, make_customer: Make
) -> None:
    # given
    zhang = make_customer(admin, name="张伟", phones=["13800138000"], emails=["ZW@example.com"])
    zhang2 = make_customer(admin, name="章伟", phones=["13912348000"])
    liu = make_customer(admin, name="刘洋", city="深圳市", district="南山区", street="科技园路1号")
    wang = make_customer(admin, name="王芳", wechat_id="wf888")

    # when
    found = customer_matches_many(
        [
            {"name": "张伟", "phones": ["+8613800138000"], "emails": ["zw@EXAMPLE.com"]},
            {"name": "张 伟", "phones": ["+8613700008000"]},
            {"name": "刘洋", "city": "深圳市", "district": "南山区", "street": "科技园路1号"},
            {"name": "Someone", "wechat_id": "wf888"},
            {"name": "新客户", "phones": ["+8613600000000"]},
            {},
        ],
        actor=admin,
    )

    # then
    assert [[(m.customer_id, m.score, m.reasons, m.same) for m in row] for row in found] == [
        [(zhang.pk, 100, (PHONE, EMAIL), True), (zhang2.pk, 75, (NAME_PHONE,), False)],
        [(zhang.pk, 75, (NAME_PHONE,), False), (zhang2.pk, 75, (NAME_PHONE,), False)],
        [(liu.pk, 65, (NAME_ADDRESS,), False)],
        [(wang.pk, 95, (WECHAT,), True)],
        [],
        [],
    ]


def test_matches_many_keeps_to_the_actors_scope(make_user: Make, make_customer: Make, team_b: Team) -> None:
    admin = make_user("admin")
    stranger = make_user("sales", team=team_b)
    mine = make_user("sales")
    theirs = make_customer(admin, name="张伟", phones=["13800138000"], owner=stranger)
    candidate = {"name": "张伟", "phones": ["+8613800138000"], "wechat_id": "x", "emails": ["a@b.cn"]}

    assert customer_matches_many([candidate], actor=mine) == [[]]
    assert [m.customer_id for m in customer_matches_many([candidate], actor=None)[0]] == [theirs.pk]


@pytest.mark.parametrize("n", [1, 40])
def test_matches_many_reads_in_a_fixed_number_of_queries(
    admin: User, make_customer: Make, n: int, django_assert_num_queries: Any
) -> None:
    make_customer(admin, name="张伟", phones=["13800138000"], wechat_id="zw", street="路1号")
    candidates = [
        {
            "name": f"客户{i}",
            "phones": [f"+86138001{i:05d}"],
            "emails": [f"c{i}@example.com"],
            "wechat_id": f"w{i}",
            "street": "路1号",
        }
        for i in range(n)
    ]
    with django_assert_num_queries(4):
        found = customer_matches_many(candidates, actor=admin)
    assert len(found) == n


def test_matches_many_without_likely_rules_reports_only_the_same_person(
    admin: User, make_customer: Make, django_assert_num_queries: Any
) -> None:
    # given: one customer with the same number, one with only the same name and a number ending alike
    zhang = make_customer(admin, name="张伟", phones=["13800138000"], wechat_id="zw")
    make_customer(admin, name="章伟", phones=["13912348000"], street="路1号")
    candidate = {"name": "张伟", "phones": ["+8613800138000"], "wechat_id": "zw", "street": "路1号"}

    # when: phones and WeChat IDs, no name query
    with django_assert_num_queries(2):
        found = customer_matches_many([candidate], actor=admin, likely=False)

    # then
    assert [[(m.customer_id, m.score, m.reasons, m.same) for m in row] for row in found] == [
        [(zhang.pk, 100, (PHONE, WECHAT), True)]
    ]


def test_matches_many_uses_the_partial_wechat_index(admin: User, make_customer: Make) -> None:
    # The partial index answers only a query that repeats its condition; a scan would cost 300 ms at 1M.
    make_customer(admin, name="王芳", wechat_id="wf888")
    with CaptureQueriesContext(connection) as queries:
        customer_matches_many([{"wechat_id": "wf888"}], actor=None)
    [query] = queries.captured_queries
    assert "<> ''" in query["sql"] or "NOT (" in query["sql"]


def test_stored_pairs_say_when_they_were_found_and_lose_a_merged_or_deleted_customer(
    admin: User, make_customer: Make
) -> None:
    # given: two pairs found by a run
    make_customer(admin, name="张伟", phones=["13800138000"])
    gone = make_customer(admin, name="Zhang Wei", phones=["13800138000"])
    make_customer(admin, name="李娜", emails=["ln@example.com"])
    make_customer(admin, name="李娜", emails=["ln@example.com"])
    assert duplicate_pairs(actor=admin).items == []  # nothing before the first run
    assert customer_duplicates_refresh() == 2
    before = duplicate_pairs(actor=admin)

    # when: one customer of a pair is deleted, and a new pair appears
    Customer.objects.filter(pk=gone.pk).delete()
    make_customer(admin, name="王芳", wechat_id="wf888")
    make_customer(admin, name="王芳", wechat_id="wf888")
    after = duplicate_pairs(actor=admin)

    # then: the deleted customer's pair is gone at once; the new pair waits for the next run
    assert before.computed_at is not None and len(before.items) == 2
    assert [(p.a.name, p.reasons) for p in after.items] == [("李娜", [EMAIL])]
    assert after.computed_at == before.computed_at
    customer_duplicates_refresh()
    assert [p.reasons for p in duplicate_pairs(actor=admin).items] == [[WECHAT], [EMAIL]]


def test_a_refresh_request_queues_the_job_for_managers_only(
    make_user: Make, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        customer_duplicates_refresh_request(actor=make_user("manager"))
    assert len(callbacks) == 1
    with pytest.raises(PermissionDenied):
        customer_duplicates_refresh_request(actor=make_user("sales"))
