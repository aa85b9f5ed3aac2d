"""The duplicate finder and the merge screen, with and without htmx; the 360 page of a merged id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from guanxi.customers.duplicates import customer_duplicates_refresh
from guanxi.customers.models import Customer, CustomerMerge
from guanxi.users.models import Team, User

HX = {"HTTP_HX_REQUEST": "true"}
Make = Callable[..., Any]
ClientFor = Callable[[User | None], Client]


def test_the_finder_lists_pairs_with_score_reasons_and_a_merge_link(
    admin: User, make_customer: Make, client_for: ClientFor
) -> None:
    a = make_customer(admin, name="张伟", phones=["13800138000"])
    b = make_customer(admin, name="Zhang Wei", phones=["13800138000"])
    customer_duplicates_refresh()

    response = client_for(admin).get("/customers/duplicates")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Same mobile number" in html and ">100<" in html
    assert f"/customers/merge?a={a.pk}&amp;b={b.pk}" in html
    assert 'href="/customers/duplicates"' in html  # the nav link


def test_the_finder_pages_in_place_with_htmx(admin: User, make_customer: Make, client_for: ClientFor) -> None:
    make_customer(admin, name="甲", emails=["a@example.com"])
    make_customer(admin, name="乙", emails=["a@example.com"])
    customer_duplicates_refresh()

    response = client_for(admin).get("/customers/duplicates", **HX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="card" id="duplicate-table">')
    assert "<nav" not in html.split('id="duplicate-table"')[0]


def test_find_again_queues_a_run_and_comes_back_to_the_finder(
    admin: User, client_for: ClientFor, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(admin)
    assert "Not searched yet" in client.get("/customers/duplicates").content.decode()

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/customers/duplicates/refresh")

    assert response.status_code == 302 and response["Location"] == "/customers/duplicates"
    assert len(callbacks) == 1
    assert client.get("/customers/duplicates/refresh").status_code == 405


def test_sales_users_have_no_finder_nor_nav_link(make_user: Make, client_for: ClientFor) -> None:
    sales = make_user("sales")
    client = client_for(sales)
    assert client.get("/customers/duplicates").status_code == 403
    assert client.post("/customers/duplicates/refresh").status_code == 403
    assert "/customers/duplicates" not in client.get("/customers/").content.decode()


def test_the_merge_screen_shows_differing_fields_with_defaults_and_what_moves(
    admin: User, make_customer: Make, client_for: ClientFor
) -> None:
    a = make_customer(admin, name="张伟", phones=["13800138000"], city="深圳市")
    b = make_customer(admin, name="张伟", phones=["13800138000"], city="", wechat_id="zw8")

    response = client_for(admin).get(f"/customers/merge?a={a.pk}&b={b.pk}")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="pick_city" value="a" checked' in html  # the non-empty value by default
    assert 'name="pick_wechat_id" value="b" checked' in html
    assert 'name="pick_name"' not in html  # the same on both sides
    assert "Timeline entries" in html


def test_the_merge_screen_without_two_ids_asks_for_them(admin: User, client_for: ClientFor) -> None:
    client = client_for(admin)
    assert client.get("/customers/merge").status_code == 200
    response = client.get("/customers/merge?a=1&b=1")
    assert response.status_code == 400
    assert "cannot be merged with itself" in response.content.decode()
    assert client.get("/customers/merge?a=x").status_code == 400


def test_posting_the_merge_merges_and_redirects_to_the_survivor(
    admin: User, make_customer: Make, client_for: ClientFor
) -> None:
    a = make_customer(admin, name="张伟", city="深圳市")
    b = make_customer(admin, name="张伟伟", city="广州市")
    client = client_for(admin)

    response = client.post(
        "/customers/merge", {"a": a.pk, "b": b.pk, "survivor": "b", "pick_name": "a", "pick_city": "b"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/customers/{b.pk}/"
    b.refresh_from_db()
    assert (b.name, b.city) == ("张伟", "广州市")
    assert not Customer.objects.filter(pk=a.pk).exists()
    # the merged id's page leads to the survivor, with a message
    followed = client.get(f"/customers/{a.pk}/", follow=True)
    assert followed.redirect_chain == [(f"/customers/{b.pk}/", 302)]
    assert "was merged into this one" in followed.content.decode()


def test_posting_with_htmx_answers_a_redirect_header(
    admin: User, make_customer: Make, client_for: ClientFor
) -> None:
    a = make_customer(admin, name="甲")
    b = make_customer(admin, name="乙")

    response = client_for(admin).post("/customers/merge", {"a": a.pk, "b": b.pk, "survivor": "a"}, **HX)

    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/customers/{a.pk}/"
    assert CustomerMerge.objects.get().merged_id == b.pk


def test_a_bad_form_shows_again_with_errors_and_changes_nothing(
    admin: User, make_customer: Make, client_for: ClientFor
) -> None:
    a = make_customer(admin, name="甲")
    b = make_customer(admin, name="乙")
    client = client_for(admin)

    plain = client.post("/customers/merge", {"a": a.pk, "b": b.pk, "survivor": "c"})
    htmx = client.post("/customers/merge", {"a": a.pk, "b": b.pk, "survivor": "c"}, **HX)

    assert plain.status_code == htmx.status_code == 422
    assert "<html" in plain.content.decode()
    assert htmx.content.decode().lstrip().startswith("<form")
    assert "errorlist" in htmx.content.decode()
    assert Customer.objects.count() == 2


def test_a_manager_cannot_open_or_merge_another_teams_customer(
    make_user: Make, make_customer: Make, client_for: ClientFor, team_b: Team
) -> None:
    admin = make_user("admin")
    manager = make_user("manager")
    stranger = make_user("sales", team=team_b)
    ours = make_customer(admin, name="张伟", owner=manager)
    theirs = make_customer(admin, name="张伟", owner=stranger)
    client = client_for(manager)

    assert client.get(f"/customers/merge?a={ours.pk}&b={theirs.pk}").status_code == 404
    response = client.post("/customers/merge", {"a": ours.pk, "b": theirs.pk, "survivor": "a"})
    assert response.status_code == 404
    assert Customer.objects.count() == 2


def test_a_merged_id_outside_scope_stays_not_found(
    make_user: Make, make_customer: Make, client_for: ClientFor, team_b: Team
) -> None:
    admin = make_user("admin")
    stranger = make_user("sales", team=team_b)
    a = make_customer(admin, name="甲", owner=stranger)
    b = make_customer(admin, name="乙", owner=stranger)
    client_for(admin).post("/customers/merge", {"a": a.pk, "b": b.pk, "survivor": "a"})

    assert client_for(make_user("sales")).get(f"/customers/{b.pk}/").status_code == 404
