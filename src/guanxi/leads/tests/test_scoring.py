"""The score: rules on source, completeness and engagement, 0–100, explained in words."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import translation

from guanxi.leads import scoring, services
from guanxi.leads.models import Lead
from guanxi.users.models import User


def test_a_referral_with_every_detail_scores_high_and_says_why() -> None:
    points, reasons = scoring.score(
        {
            "source": "referral",
            "phone": "+8613900139000",
            "email": "a@b.cn",
            "company": "芳华贸易",
            "city": "深圳",
            "interest": "汉EV",
            "wechat_id": "",
            "message": "",
        }
    )
    assert points == 20 + 15 + 10 + 10 + 5 + 10
    with translation.override("en"):
        texts = [reason.text for reason in scoring.explain(reasons)]
    assert texts[0] == "Came through a referral +20"
    assert "Has a mobile number +15" in texts


def test_missing_details_cost_points_and_the_score_never_goes_below_zero() -> None:
    points, reasons = scoring.score({"source": "", "email": "a@b.cn"})
    assert points == 0  # 10 for the email, −10 for no phone, −5 for no interest
    with translation.override("en"):
        texts = {reason.text for reason in scoring.explain(reasons)}
    assert {"No phone number −10", "Did not say what they want −5", "Has an email address +10"} == texts


def test_engagement_adds_up_to_its_caps_and_the_total_stops_at_100() -> None:
    full = {
        "source": "referral",
        "phone": "x",
        "email": "x",
        "company": "x",
        "city": "x",
        "interest": "x",
        "wechat_id": "x",
        "message": "x",
    }
    assert scoring.score(full)[0] == 80
    assert scoring.score(full, captures=2)[0] == 90
    assert scoring.score(full, captures=5, activities=9)[0] == 100
    _points, reasons = scoring.score({}, captures=9, activities=9)
    assert {r["rule"]: r["points"] for r in reasons}["engagement.captures"] == 20
    assert {r["rule"]: r["points"] for r in reasons}["engagement.activities"] == 20


def test_reasons_read_in_chinese_for_a_chinese_reader() -> None:
    _points, reasons = scoring.score({"source": "referral"})
    with translation.override("zh-hans"):
        labels = [reason.label for reason in scoring.explain(reasons)]
    assert len(labels) == 3  # the words come from the catalogue; English until it is translated


@pytest.mark.django_db
def test_the_score_is_recomputed_on_every_change(rep: User, make_lead: Callable[..., Lead]) -> None:
    lead = make_lead(rep, source="web")
    assert lead.score == 10 + 15 - 5
    services.lead_update(actor=rep, lead=lead, interest="汉EV 四驱版", company="芳华贸易")
    lead.refresh_from_db()
    assert lead.score == 10 + 15 + 10 + 10
    make_lead(rep, name="王芳", message="再问一次")  # captured again
    lead.refresh_from_db()
    assert lead.score == 10 + 15 + 10 + 10 + 5 + 10
    assert {r["rule"] for r in lead.score_reasons} >= {"engagement.captures", "has.message"}
