"""The public web form: no sign-in, no cookies, embeddable; honeypot, timing, rate limit, length limits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client

from guanxi.leads import services
from guanxi.leads.models import Lead, LeadForm
from guanxi.leads.views import TOKEN_SALT
from guanxi.users.models import Team, User

pytestmark = pytest.mark.django_db
URL = "/leads/form/test-drive/"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def web_form(manager: User, team_b: Team) -> LeadForm:
    return services.form_create(
        actor=manager,
        slug="test-drive",
        title="预约试驾",
        intro="留下联系方式",
        fields=["phone", "city", "interest", "message"],
        team=team_b,
        thank_you="提交成功！",
        allowed_origins="https://www.dealer.example",
    )


def _token(web_form: LeadForm, age: float = 10.0) -> str:
    return signing.dumps({"f": web_form.pk, "t": time.time() - age}, salt=TOKEN_SALT, compress=False)


def _post(
    client: Client, web_form: LeadForm, age: float = 10.0, ip: str = "203.0.113.9", **fields: Any
) -> Any:
    headers = {key: fields.pop(key) for key in list(fields) if key.startswith("HTTP_")}
    data = {
        "name": "王芳",
        "phone": "139 0013 9000",
        "city": "深圳",
        "interest": "汉EV",
        "message": "周末试驾",
        "website": "",
    }
    data.update(token=_token(web_form, age))
    data.update(fields)
    return client.post(URL, data, REMOTE_ADDR=ip, **headers)


def test_the_form_opens_without_sign_in_in_any_frame_and_sets_no_cookie(web_form: LeadForm) -> None:
    response = Client().get(URL)
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert not response.cookies
    text = response.content.decode()
    assert "预约试驾" in text and 'name="token"' in text and 'name="website"' in text
    assert 'name="email"' not in text  # not one of the form's fields
    assert Client().get("/leads/").status_code == 302  # the rest of the app still needs sign-in


def test_a_post_without_cookies_makes_a_lead_by_the_forms_rules(web_form: LeadForm, team_b: Team) -> None:
    client = Client(enforce_csrf_checks=True)
    response = _post(client, web_form, HTTP_REFERER="https://www.dealer.example/cars")
    assert response.status_code == 200, response.content.decode()[:500]
    assert "提交成功！" in response.content.decode()
    assert not response.cookies
    lead = Lead.objects.get()
    assert (lead.name, lead.phone, lead.city, lead.source) == ("王芳", "+8613900139000", "深圳", "web")
    assert lead.web_form == web_form and lead.team == team_b and lead.owner is None
    assert lead.extra == {"page": "https://www.dealer.example/cars"}


def test_a_filled_honeypot_is_thanked_and_dropped(web_form: LeadForm) -> None:
    response = _post(Client(), web_form, website="http://spam.example")
    assert response.status_code == 200 and "提交成功！" in response.content.decode()
    assert Lead.objects.count() == 0


def test_a_post_faster_than_a_person_is_sent_back(web_form: LeadForm) -> None:
    response = _post(Client(), web_form, age=0.5)
    assert response.status_code == 400
    assert Lead.objects.count() == 0
    assert 'value="王芳"' in response.content.decode()  # kept for the person to send again


def test_a_post_older_than_a_day_or_for_another_form_is_refused(web_form: LeadForm, manager: User) -> None:
    assert _post(Client(), web_form, age=2 * 86400).status_code == 400
    other = services.form_create(actor=manager, slug="other", title="其他", fields=["phone"])
    assert _post(Client(), web_form, token=_token(other)).status_code == 400
    assert _post(Client(), web_form, token="forged:token").status_code == 400
    assert Lead.objects.count() == 0


def test_more_than_the_limit_from_one_address_is_throttled(web_form: LeadForm, settings: Any) -> None:
    settings.GUANXI_LEAD_FORM_RATE_LIMIT = 3
    codes = [_post(Client(), web_form, phone=f"+86139001390{i:02d}").status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert _post(Client(), web_form, phone="+8613900139099", ip="198.51.100.7").status_code == 200
    assert Lead.objects.count() == 4


def test_length_limits_and_required_contacts(web_form: LeadForm) -> None:
    assert _post(Client(), web_form, message="长" * 2001).status_code == 422
    assert _post(Client(), web_form, phone="").status_code == 422
    assert _post(Client(), web_form, name="王" * 101).status_code == 422
    huge = Client().post(URL, {"name": "x", "message": "x" * 20000, "token": _token(web_form)})
    assert huge.status_code == 413
    assert Lead.objects.count() == 0


def test_the_sites_own_html_form_posts_from_a_listed_origin(web_form: LeadForm) -> None:
    data = {"name": "赵敏", "phone": "13600136000", "next": "https://www.dealer.example/thanks"}
    allowed = Client().post(URL, data, HTTP_ORIGIN="https://www.dealer.example")
    assert allowed.status_code == 303 and allowed["Location"] == "https://www.dealer.example/thanks"
    refused = Client().post(URL, data, HTTP_ORIGIN="https://evil.example")
    assert refused.status_code == 400
    assert list(Lead.objects.values_list("name", flat=True)) == ["赵敏"]


def test_a_second_entry_of_the_same_person_adds_to_their_open_lead(web_form: LeadForm) -> None:
    _post(Client(), web_form, message="第一次")
    _post(Client(), web_form, message="第二次", ip="198.51.100.8")
    lead = Lead.objects.get()
    assert lead.captures == 2 and "第一次" in lead.message and "第二次" in lead.message


def test_an_inactive_or_unknown_form_answers_404(web_form: LeadForm, manager: User) -> None:
    services.form_update(actor=manager, form=web_form, active=False)
    assert Client().get(URL).status_code == 404
    assert _post(Client(), web_form).status_code == 404
    assert Client().get("/leads/form/nothing-here/").status_code == 404
    assert Lead.objects.count() == 0


def test_the_embedding_page_is_remembered_with_the_lead(web_form: LeadForm) -> None:
    shown = Client().get(URL, HTTP_REFERER="https://www.dealer.example/han-ev").content.decode()
    assert 'name="page" value="https://www.dealer.example/han-ev"' in shown
    _post(
        Client(), web_form, page="https://www.dealer.example/han-ev", HTTP_REFERER="http://testserver" + URL
    )
    assert Lead.objects.get().extra == {"page": "https://www.dealer.example/han-ev"}
