"""The lead pages: every route by role and scope, the list's filters, the actions, masking."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.core.permissions import ROLES, can
from guanxi.customers.models import Customer
from guanxi.leads import services
from guanxi.leads.models import Lead, LeadAssignmentRule, LeadForm
from guanxi.opportunities.models import Opportunity
from guanxi.users.models import Team, User

pytestmark = pytest.mark.django_db

# route name → (permission, takes a lead (scoped), method)
ROUTES = {
    "lead-list": ("lead.view", False, "get"),
    "lead-create": ("lead.create", False, "get"),
    "lead-detail": ("lead.view", True, "get"),
    "lead-edit": ("lead.change", True, "post"),
    "lead-status": ("lead.change", True, "post"),
    "lead-qualify": ("lead.change", True, "post"),
    "lead-disqualify": ("lead.change", True, "post"),
    "lead-assign": ("lead.assign", True, "post"),
    "lead-convert": ("lead.change", True, "post"),
    "lead-rules": ("lead.assign", False, "get"),
    "lead-rule-edit": ("lead.assign", False, "get"),
    "lead-rule-move": ("lead.assign", False, "post"),
    "lead-rule-delete": ("lead.assign", False, "post"),
    "lead-forms": ("lead.assign", False, "get"),
    "lead-form-edit": ("lead.assign", False, "get"),
}


def test_every_lead_route_is_listed_here() -> None:
    from guanxi.leads import urls

    assert {p.name for p in urls.urlpatterns} == {*ROUTES, "lead-public-form"}


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_route_by_role_and_scope(
    name: str, make_user: Callable[..., User], team_b: Team, admin: User, client_for: Callable[..., Client]
) -> None:
    """Without the permission 403; a lead outside the reader's scope 404; otherwise an answer."""
    perm, scoped, method = ROUTES[name]
    mate = make_user("sales", username="mate")
    stranger = make_user("sales", team=team_b, username="stranger")
    web_form = services.form_create(actor=admin, slug="ff", title="F", fields=["phone"])
    for role in ROLES:
        user = make_user(role, username=f"u_{role}")
        client = client_for(user)
        places = {"own": user, "team": mate, "other": stranger} if scoped else {"own": user}
        for where, owner in places.items():
            kwargs: dict[str, Any] = {}
            if scoped:
                lead = services.lead_create(
                    actor=admin,
                    name="王芳",
                    phone=f"+8613{Lead.objects.count() + 100000000:09d}",
                    owner=owner,
                )
                kwargs["lead_id"] = lead.pk
            elif name.startswith("lead-rule-"):
                kwargs["rule_id"] = services.rule_create(actor=admin, name="R", action="user", user=admin).pk
            elif "form-edit" in name:
                kwargs["form_id"] = web_form.pk
            url = reverse(name, kwargs=kwargs)
            status = getattr(client, method)(url, {}).status_code
            label = f"{method.upper()} {url} as {role} ({where}): {status}"
            sees = (
                where == "own"
                or ROLES[role]["scope"] == "all"
                or (ROLES[role]["scope"] == "team" and where == "team")
            )
            if not can(user, perm):
                assert status == 403, label
            elif scoped and not sees:
                assert status == 404, label
            else:
                assert status not in (403, 404) and status < 500, label
    assert Client().get(reverse(name, kwargs=kwargs)).status_code in (302, 405)


def test_the_list_shows_a_rep_their_own_leads_with_filters(
    rep: User, mate: User, manager: User, make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    make_lead(rep, name="王芳", phone="13900139000", source="web", company="芳华贸易")
    make_lead(rep, name="李强", phone="13700137000", source="referral")
    make_lead(mate, name="赵敏", phone="13600136000")
    text = client_for(rep).get("/leads/").content.decode()
    assert "王芳" in text and "李强" in text and "赵敏" not in text
    assert "139 0013 9000" in text
    managed = client_for(manager)
    assert "赵敏" in managed.get("/leads/").content.decode()
    filtered = managed.get("/leads/", {"source": "referral"}).content.decode()
    assert "李强" in filtered and "王芳" not in filtered
    assert "王芳" in managed.get("/leads/", {"q": "芳华"}).content.decode()
    assert "王芳" in managed.get("/leads/", {"q": "0013 9000"}).content.decode()
    assert "王芳" not in managed.get("/leads/", {"mine": "on"}).content.decode()
    partial = managed.get("/leads/", {"status": "open"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and "赵敏" in partial.content.decode()


def test_a_viewer_sees_team_leads_masked(
    rep: User,
    make_user: Callable[..., User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = make_lead(rep, phone="13900139000", email="wangfang@example.com")
    text = client_for(make_user("viewer")).get(f"/leads/{lead.pk}/").content.decode()
    assert "139****9000" in text and "w***@example.com" in text
    assert "139 0013 9000" not in text and "wangfang@example.com" not in text
    assert "Convert" not in text and "Disqualify" not in text


def test_a_rep_enters_a_lead_and_owns_it(rep: User, client_for: Callable[..., Client]) -> None:
    client = client_for(rep)
    form = client.get("/leads/new/").content.decode()
    assert 'name="owner"' not in form  # a rep cannot give it away
    response = client.post("/leads/new/", {"name": "王芳", "phone": "139 0013 9000", "source": "walk_in"})
    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    assert lead.owner == rep and lead.phone == "+8613900139000"
    again = client.post(
        "/leads/new/", {"name": "王女士", "phone": "13900139000", "message": "又来了"}, follow=True
    )
    assert "was a lead already" in again.content.decode()
    assert Lead.objects.count() == 1


def test_a_manager_lets_the_rules_decide(manager: User, rep: User, client_for: Callable[..., Client]) -> None:
    services.rule_create(actor=manager, name="All to rep", action="user", user=rep)
    client_for(manager).post("/leads/new/", {"name": "王芳", "phone": "13900139000", "owner": "rules"})
    assert Lead.objects.get().owner == rep
    bad = client_for(manager).post("/leads/new/", {"name": "", "phone": "123"})
    assert bad.status_code == 422 and Lead.objects.count() == 1


def test_the_lead_page_shows_the_score_reasons_and_the_customer_match(
    rep: User,
    make_lead: Callable[..., Lead],
    make_customer: Callable[..., Any],
    client_for: Callable[..., Client],
) -> None:
    customer = make_customer(rep, name="王芳", phones=["13900139000"])
    lead = make_lead(rep, source="referral")
    text = client_for(rep).get(f"/leads/{lead.pk}/").content.decode()
    assert "Came through a referral" in text and "+20" in text and "No phone number" not in text
    assert f"/customers/{customer.pk}/" in text and "Same mobile or email" in text


def test_status_actions_and_conversion_from_the_page(
    rep: User, make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead(rep, company="芳华贸易", interest="汉EV", message="周末试驾")
    client = client_for(rep)
    assert client.post(f"/leads/{lead.pk}/status").status_code == 302
    lead.refresh_from_db()
    assert lead.status == "working"
    assert client.post(f"/leads/{lead.pk}/qualify", {"note": "预算明确"}).status_code == 302
    refused = client.post(f"/leads/{lead.pk}/disqualify", {"reason": "other"})
    assert refused.status_code == 422 and "Say why" in refused.content.decode()
    missing = client.post(f"/leads/{lead.pk}/convert", {"target": "existing"})
    assert missing.status_code == 422 and Customer.objects.count() == 0
    response = client.post(
        f"/leads/{lead.pk}/convert",
        {"target": "company", "opportunity": "on", "opportunity_name": "芳华 · 汉EV", "amount": "259800"},
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.customer is not None and lead.customer.name == "芳华贸易"
    assert Opportunity.objects.get().amount == 259800
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Converted on" in page and 'action="/leads/' + str(lead.pk) + '/convert"' not in page
    again = client.post(f"/leads/{lead.pk}/convert", {"target": "person"}, follow=True)
    assert "cannot be converted" in again.content.decode() and Customer.objects.count() == 1
    timeline = client.get(f"/customers/{lead.customer_id}/").content.decode()
    assert "Converted from lead" in timeline


def test_a_bad_amount_keeps_the_convert_form_and_makes_nothing(
    rep: User, make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead(rep)
    response = client_for(rep).post(
        f"/leads/{lead.pk}/convert", {"target": "person", "opportunity": "on", "amount": "abc"}
    )
    assert response.status_code == 422
    assert Customer.objects.count() == 0 and Opportunity.objects.count() == 0


def test_rules_page_adds_edits_moves_and_deletes(
    manager: User, rep: User, team_b: Team, client_for: Callable[..., Client]
) -> None:
    client = client_for(manager)
    response = client.post(
        "/leads/rules/",
        {"name": "转介绍", "match_source": "referral", "action": "user", "user": rep.pk, "active": "on"},
    )
    assert response.status_code == 302
    rule = LeadAssignmentRule.objects.get()
    assert (rule.match_source, rule.user, rule.active) == ("referral", rep, True)
    bad = client.post("/leads/rules/", {"name": "x", "action": "round_robin"})
    assert bad.status_code == 422 and "Choose the team" in bad.content.decode()
    client.post(f"/leads/rules/{rule.pk}/", {"name": "转介绍", "action": "round_robin", "team": team_b.pk})
    rule.refresh_from_db()
    assert (rule.action, rule.team, rule.user, rule.active) == ("round_robin", team_b, None, False)
    assert "转介绍" in client.get("/leads/rules/").content.decode()
    client.post(f"/leads/rules/{rule.pk}/delete")
    assert LeadAssignmentRule.objects.count() == 0


def test_web_forms_page_creates_a_form_and_shows_the_embed_snippet(
    manager: User, client_for: Callable[..., Client]
) -> None:
    client = client_for(manager)
    response = client.post(
        "/leads/forms/",
        {
            "title": "预约试驾",
            "slug": "test-drive",
            "shown_fields": ["phone", "message"],
            "source": "web",
            "active": "on",
        },
    )
    web_form = LeadForm.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/leads/forms/{web_form.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert (
        "&lt;iframe src=&quot;http://testserver/leads/form/test-drive/&quot;" in page
        or '&lt;iframe src="http://testserver/leads/form/test-drive/"' in page
    )
    taken = client.post(
        "/leads/forms/", {"title": "x", "slug": "test-drive", "shown_fields": ["phone"], "source": "web"}
    )
    assert taken.status_code == 422 and LeadForm.objects.count() == 1
    no_contact = client.post(
        "/leads/forms/", {"title": "x", "slug": "other", "shown_fields": ["city"], "source": "web"}
    )
    assert no_contact.status_code == 422 and "Show the mobile or the email" in no_contact.content.decode()


def test_the_360_partial_lists_the_customers_leads(rep: User, make_customer: Callable[..., Any]) -> None:
    from django.template.loader import render_to_string

    from guanxi.leads import selectors

    customer = make_customer(rep, name="王芳", phones=["13900139000"])
    lead = services.lead_create(actor=rep, name="王芳", phone="13900139000", interest="汉EV")
    services.lead_convert(
        actor=rep, lead=lead, customer=customer, opportunity=True, opportunity_name="汉EV 商机"
    )
    html = render_to_string(
        "leads/_customer_leads.html",
        {"customer_leads": selectors.leads_for_customer(actor=rep, customer=customer)},
    )
    assert f"/leads/{lead.pk}/" in html and "汉EV 商机" in html
