"""The tag and custom field pages: who may use them, what they write, how they show errors."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from guanxi.audit.models import AuditEvent
from guanxi.customers import services
from guanxi.customers.models import CustomFieldDefinition, Tag
from guanxi.users.models import Team, User

pytestmark = pytest.mark.django_db


# ---- Access ---------------------------------------------------------------------------------------------


def test_a_sales_user_is_refused_both_pages_and_changes_nothing(
    client_for: Any, make_user: Any, admin: User
) -> None:
    tag = services.tag_create(actor=admin, name="VIP")
    field = services.custom_field_create(actor=admin, label="车队规模", type="number")
    client = client_for(make_user("sales"))
    events = AuditEvent.objects.count()

    responses = [
        client.get(reverse("tag-list")),
        client.post(reverse("tag-create"), {"name": "黑名单", "color": "#000000"}),
        client.post(
            reverse("tag-update", args=[tag.pk]), {f"t{tag.pk}-name": "x", f"t{tag.pk}-color": "#000000"}
        ),
        client.post(reverse("tag-delete", args=[tag.pk])),
        client.get(reverse("customfield-list")),
        client.post(reverse("customfield-list"), {"label": "x", "type": "text", "position": 0}),
        client.post(reverse("customfield-edit", args=[field.pk]), {"label": "x", "position": 0}),
    ]

    assert [r.status_code for r in responses] == [403] * 7
    assert list(Tag.objects.values_list("name", "color")) == [("VIP", "#2563eb")]
    assert list(CustomFieldDefinition.objects.values_list("label", "active")) == [("车队规模", True)]
    assert AuditEvent.objects.count() == events


def test_marketing_manages_tags_but_not_custom_fields(client_for: Any, make_user: Any) -> None:
    client = client_for(make_user("marketing"))

    assert client.get(reverse("tag-list")).status_code == 200
    assert client.get(reverse("customfield-list")).status_code == 403


# ---- Tags -----------------------------------------------------------------------------------------------


def test_the_tag_list_shows_colours_and_customer_counts(
    client_for: Any, admin: User, make_customer: Any
) -> None:
    vip = services.tag_create(actor=admin, name="VIP", color="#dc2626")
    services.tag_create(actor=admin, name="车队")
    for name in ("陈静", "刘洋"):
        make_customer(admin, name=name, tags=["VIP"])

    response = client_for(admin).get(reverse("tag-list"))

    assert response.status_code == 200
    counts = {row["tag"].name: row["tag"].customer_count for row in response.context["rows"]}
    assert counts == {"VIP": 2, "车队": 0}
    body = response.content.decode()
    assert 'style="background: #dc2626"' in body and f"?tag={vip.pk}" in body
    assert 'type="color"' in body


def test_a_team_scoped_manager_counts_only_the_customers_they_see(
    client_for: Any, admin: User, make_user: Any, make_customer: Any, team_b: Team
) -> None:
    manager, stranger = make_user("manager"), make_user("sales", team=team_b)
    services.tag_create(actor=admin, name="VIP")
    make_customer(admin, name="本组客户", owner=manager, team=manager.team, tags=["VIP"])
    make_customer(admin, name="外组客户", owner=stranger, team=team_b, tags=["VIP"])

    response = client_for(manager).get(reverse("tag-list"))

    assert [row["tag"].customer_count for row in response.context["rows"]] == [1]
    assert "that you can see" in response.content.decode()


def test_creating_renaming_and_deleting_a_tag_records_audit_events(client_for: Any, admin: User) -> None:
    client = client_for(admin)

    created = client.post(reverse("tag-create"), {"name": "VIP", "color": "#dc2626"})
    tag = Tag.objects.get(name="VIP")
    prefix = f"t{tag.pk}"
    renamed = client.post(
        reverse("tag-update", args=[tag.pk]), {f"{prefix}-name": "贵宾", f"{prefix}-color": "#16a34a"}
    )
    confirm = client.get(reverse("tag-delete", args=[tag.pk]))

    assert created.status_code == renamed.status_code == 302
    tag.refresh_from_db()
    assert (tag.name, tag.color) == ("贵宾", "#16a34a")
    assert confirm.status_code == 200 and "Delete the tag “贵宾”?" in confirm.content.decode()
    assert Tag.objects.filter(pk=tag.pk).exists()  # asking is not deleting

    deleted = client.post(reverse("tag-delete", args=[tag.pk]))

    assert deleted.status_code == 302 and not Tag.objects.exists()
    actions = (
        AuditEvent.objects.filter(target_type="customers.tag").order_by("id").values_list("action", "via")
    )
    assert list(actions) == [("tag.create", "web"), ("tag.update", "web"), ("tag.delete", "web")]


def test_a_duplicate_or_bad_tag_is_a_form_error(client_for: Any, admin: User) -> None:
    services.tag_create(actor=admin, name="VIP")
    other = services.tag_create(actor=admin, name="车队")
    client = client_for(admin)

    duplicate = client.post(reverse("tag-create"), {"name": "VIP", "color": "#dc2626"})
    rename = client.post(
        reverse("tag-update", args=[other.pk]), {f"t{other.pk}-name": "VIP", f"t{other.pk}-color": "#dc2626"}
    )
    colour = client.post(reverse("tag-create"), {"name": "新标签", "color": "red"})

    assert duplicate.status_code == rename.status_code == colour.status_code == 422
    assert "exists already" in duplicate.context["create_form"].errors["name"][0]
    failed = next(row for row in rename.context["rows"] if row["tag"].pk == other.pk)
    assert failed["open"] and "exists already" in failed["form"].errors["name"][0]
    assert colour.context["create_form"].errors["color"]
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["VIP", "车队"]


# ---- Custom fields --------------------------------------------------------------------------------------


def test_adding_a_custom_field_records_an_audit_event(client_for: Any, admin: User) -> None:
    data = {
        "label": "加油偏好",
        "key": "fuel_grade",
        "type": "choice",
        "choices": "92号\n95号, 98号\n柴油",
        "required": "on",
        "help_text": "常加的油品",
        "position": "10",
    }

    response = client_for(admin).post(reverse("customfield-list"), data)

    assert response.status_code == 302
    field = CustomFieldDefinition.objects.get(key="fuel_grade")
    assert (field.label, field.type, field.required, field.position) == ("加油偏好", "choice", True, 10)
    assert field.choices == ["92号", "95号", "98号", "柴油"]
    event = AuditEvent.objects.get(action="customfield.create")
    assert (event.actor, event.target_id) == (admin, str(field.pk))


def test_the_key_is_made_when_left_empty_and_choices_are_dropped_for_other_types(
    client_for: Any, admin: User
) -> None:
    response = client_for(admin).post(
        reverse("customfield-list"),
        {"label": "车队规模", "type": "number", "choices": "a, b", "position": "0"},
    )

    assert response.status_code == 302
    field = CustomFieldDefinition.objects.get()
    assert field.key.startswith("field_") and field.choices == []


def test_a_choice_field_without_choices_is_a_form_error(client_for: Any, admin: User) -> None:
    response = client_for(admin).post(
        reverse("customfield-list"),
        {"label": "会员等级", "type": "choice", "choices": " \n, ", "position": "0"},
    )

    assert response.status_code == 422
    assert response.context["form"].errors["choices"] == ["A choice field needs at least one choice."]
    assert not CustomFieldDefinition.objects.exists()


def test_a_duplicate_key_is_a_form_error(client_for: Any, admin: User) -> None:
    services.custom_field_create(actor=admin, key="fleet", label="车队规模", type="number")

    response = client_for(admin).post(
        reverse("customfield-list"), {"label": "车队", "key": "fleet", "type": "text", "position": "0"}
    )

    assert response.status_code == 422
    assert "exists already" in response.context["form"].errors["key"][0]


def test_the_page_explains_the_key_and_type_rules(client_for: Any, admin: User) -> None:
    body = client_for(admin).get(reverse("customfield-list")).content.decode()

    assert "The key cannot change later." in body
    assert "Values are checked by type" in body
    assert 'class="field cf-choices' in body


def test_editing_and_deactivating_a_custom_field(client_for: Any, admin: User) -> None:
    field = services.custom_field_create(
        actor=admin, key="grade", label="等级", type="choice", choices=["A", "B"]
    )
    client = client_for(admin)

    page = client.get(reverse("customfield-edit", args=[field.pk]))
    response = client.post(
        reverse("customfield-edit", args=[field.pk]),
        {"label": "客户等级", "choices": "A\nB\nC", "help_text": "", "position": "5"},
    )

    assert page.status_code == 200 and page.context["editing"] == field
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.label, field.choices, field.position, field.active, field.key) == (
        "客户等级",
        ["A", "B", "C"],
        5,
        False,
        "grade",
    )
    event = AuditEvent.objects.get(action="customfield.update")
    assert event.changes["active"] == [True, False]


def test_emptying_the_choices_of_a_choice_field_is_refused(client_for: Any, admin: User) -> None:
    field = services.custom_field_create(actor=admin, key="grade", label="等级", type="choice", choices=["A"])

    response = client_for(admin).post(
        reverse("customfield-edit", args=[field.pk]),
        {"label": "等级", "choices": "", "position": "0", "active": "on"},
    )

    assert response.status_code == 422
    assert response.context["form"].errors["choices"]
    field.refresh_from_db()
    assert field.choices == ["A"]
