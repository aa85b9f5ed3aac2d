"""GET /api/v1/customers/duplicates and POST /api/v1/customers/{id}/merge: happy paths and errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from conftest import bearer

from guanxi.customers.duplicates import customer_duplicates_refresh
from guanxi.customers.models import Customer, CustomerMerge
from guanxi.users.models import Team, User

Make = Callable[..., Any]


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_duplicates_are_listed_paged_with_score_and_reasons(admin: User, make_customer: Make) -> None:
    a = make_customer(admin, name="张伟", phones=["13800138000"])
    b = make_customer(admin, name="Zhang Wei", phones=["13800138000"])
    make_customer(admin, name="李娜", emails=["ln@example.com"])
    make_customer(admin, name="李娜", emails=["LN@example.com"])
    customer_duplicates_refresh()

    first = bearer(admin).get("/api/v1/customers/duplicates?limit=1").json()
    second = bearer(admin).get("/api/v1/customers/duplicates?limit=1&offset=1").json()

    assert [(i["a"]["id"], i["b"]["id"], i["score"], i["same"], i["reasons"]) for i in first["items"]] == [
        (a.pk, b.pk, 100, True, ["phone"])
    ]
    assert first["next_offset"] == 1
    assert second["items"][0]["reasons"] == ["email"]
    assert second["next_offset"] is None
    assert first["items"][0]["a"]["phones"] == ["+8613800138000"]
    assert first["computed_at"] is not None


def test_sales_users_may_not_list_duplicates(make_user: Make) -> None:
    response = bearer(make_user("sales")).get("/api/v1/customers/duplicates")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_merge_answers_the_survivor(admin: User, make_customer: Make) -> None:
    survivor = make_customer(admin, name="张伟", phones=["13800138000"], stage="lead")
    other = make_customer(admin, name="张伟", phones=["13900139000"], stage="loyal", tags=["VIP"])

    response = post(
        bearer(admin),
        f"/api/v1/customers/{survivor.pk}/merge",
        {"other_id": other.pk, "choose": {"stage": "other"}},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["stage"], body["tags"]) == (survivor.pk, "loyal", ["VIP"])
    assert body["phones"] == ["+8613800138000", "+8613900139000"]
    assert not Customer.objects.filter(pk=other.pk).exists()


def test_merging_again_is_a_conflict(admin: User, make_customer: Make) -> None:
    survivor = make_customer(admin, name="甲")
    other = make_customer(admin, name="乙")
    client = bearer(admin)
    assert post(client, f"/api/v1/customers/{survivor.pk}/merge", {"other_id": other.pk}).status_code == 200

    again = post(client, f"/api/v1/customers/{survivor.pk}/merge", {"other_id": other.pk})

    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    assert again.json()["details"] == {"other_id": other.pk, "survivor_id": survivor.pk}


def test_bad_choices_and_self_merges_are_422(admin: User, make_customer: Make) -> None:
    survivor = make_customer(admin, name="甲")
    other = make_customer(admin, name="乙")
    client = bearer(admin)
    url = f"/api/v1/customers/{survivor.pk}/merge"

    bad_side = post(client, url, {"other_id": other.pk, "choose": {"name": "both"}})
    bad_field = post(client, url, {"other_id": other.pk, "choose": {"colour": "other"}})
    itself = post(client, url, {"other_id": survivor.pk})
    not_object = post(client, url, [other.pk])

    assert [r.status_code for r in (bad_side, bad_field, itself, not_object)] == [422] * 4
    assert "choose.name" in bad_side.json()["details"]
    assert bad_field.json()["details"] == {"choose.colour": ["Unknown field."]}
    assert itself.json()["code"] == "validation_failed"
    assert Customer.objects.count() == 2


def test_merge_needs_the_permission_and_both_in_scope(
    make_user: Make, make_customer: Make, team_b: Team
) -> None:
    admin = make_user("admin")
    manager = make_user("manager")
    sales = make_user("sales")
    stranger = make_user("sales", team=team_b)
    ours = make_customer(admin, name="张伟", owner=sales)
    theirs = make_customer(admin, name="张伟", owner=stranger)

    denied = post(bearer(sales), f"/api/v1/customers/{ours.pk}/merge", {"other_id": theirs.pk})
    hidden_other = post(bearer(manager), f"/api/v1/customers/{ours.pk}/merge", {"other_id": theirs.pk})
    hidden_self = post(bearer(manager), f"/api/v1/customers/{theirs.pk}/merge", {"other_id": ours.pk})

    assert denied.status_code == 403
    assert hidden_other.status_code == hidden_self.status_code == 404
    assert hidden_other.json()["code"] == "not_found"
    assert Customer.objects.count() == 2
    assert not CustomerMerge.objects.exists()
