"""In real Chromium: the sales section of the KPI board draws its charts, and the outbox sends a failed
email again through a real local SMTP server when someone clicks "retry now"."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from conftest import PASSWORD
from django.utils import timezone

from guanxi.channels.models import EmailMessage
from guanxi.channels.services import email_enqueue
from guanxi.channels.testing import LocalSMTPServer
from guanxi.customers import services as customer_services
from guanxi.leads.models import Lead
from guanxi.opportunities.models import Opportunity, Pipeline, Stage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SALES_CHARTS = ("pipeline_months", "pipeline_reps", "pipeline_teams", "funnel", "win_rate", "sales_cycle")


def _sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_the_board_draws_the_sales_forecast_and_reports(
    page: Any, live_server: Any, admin: Any, make_user: Any, shot: Any
) -> None:
    manager = make_user("manager", username="boss")
    reps = [make_user("sales", username=f"rep{i}") for i in range(3)]
    customer = customer_services.customer_create(actor=admin, name="华南建材有限公司")
    pipeline = Pipeline.objects.create(name="工程项目")
    stage = {kind: Stage.objects.create(pipeline=pipeline, name=str(kind), kind=kind) for kind in Stage.Kind}
    now, today = timezone.now(), timezone.localdate()
    for i in range(24):
        status = (Opportunity.Status.OPEN, Opportunity.Status.WON, Opportunity.Status.LOST)[i % 3]
        owner = reps[i % 3]
        opportunity = Opportunity.objects.create(
            name=f"项目{i}",
            customer=customer,
            pipeline=pipeline,
            stage=stage[status],
            status=status,
            amount=Decimal(5000 + 1000 * i),
            probability=(20 + 3 * i) if status == Opportunity.Status.OPEN else 0,
            expected_close=today + timedelta(days=20 * i) if status == Opportunity.Status.OPEN else None,
            owner=owner,
            team=owner.team,
            closed_at=None if status == Opportunity.Status.OPEN else now - timedelta(days=i),
            lost_reason="price" if status == Opportunity.Status.LOST and i % 2 else "",
            stage_changed_at=now,
        )
        Opportunity.objects.filter(pk=opportunity.pk).update(created_at=now - timedelta(days=30 + i))
        Lead.objects.create(
            name=f"线索{i}", owner=owner, team=owner.team, opportunity=opportunity if i % 4 else None
        )

    _sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/analytics/")
    for key in (*SALES_CHARTS, "lost_reasons"):
        page.wait_for_selector(f"#chart-{key} canvas")
    assert page.inner_text("#kpi-win_rate .stat") == "50.0%"  # 8 won, 8 lost
    page.locator("#sales-reports").scroll_into_view_if_needed()
    shot("kpi-board-sales")

    with page.expect_download() as download:
        page.click("#chart-funnel >> xpath=.. >> text=CSV")
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert text.splitlines()[1].split(",")[1] == "24"


def test_a_failed_email_is_sent_again_from_the_outbox(
    page: Any, live_server: Any, admin: Any, smtp_server: LocalSMTPServer, shot: Any
) -> None:
    email_enqueue(
        actor=admin, key="quote:1", to=["wangfang@example.cn"], subject="报价单 Q-0001", body="您好"
    )
    smtp_server.refuse(1)
    failed = email_enqueue(
        actor=admin, key="quote:2", to=["zhao@example.cn"], subject="报价单 Q-0002", body="赵总您好"
    )
    failed.refresh_from_db()
    assert failed.status == EmailMessage.Status.FAILED
    assert [m["Subject"] for m in smtp_server.messages] == ["报价单 Q-0001"]

    _sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/outbox/?status=failed")
    assert page.locator("table.outbox-table tbody tr").count() == 1
    shot("outbox")
    page.click("text=报价单 Q-0002")
    page.wait_for_url(f"{live_server.url}/outbox/{failed.pk}/")
    assert "451" in page.inner_text(".outbox-layout")
    page.click(f"form[action='/outbox/{failed.pk}/retry'] button")  # 立即重试
    page.wait_for_url(f"{live_server.url}/outbox/{failed.pk}/")
    page.wait_for_selector(".badge.outbox-sent")
    shot("outbox-retried")
    assert [m["Subject"] for m in smtp_server.messages] == ["报价单 Q-0001", "报价单 Q-0002"]
