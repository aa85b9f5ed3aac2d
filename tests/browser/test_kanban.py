"""The opportunity board in real Chromium: drag a card to another stage and within a column (SortableJS,
posted through htmx), move one with the keyboard only, and close won and lost through the dialogs."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import PASSWORD

from guanxi.customers import services as customer_services
from guanxi.opportunities.models import Opportunity, Stage, StageChange
from guanxi.opportunities.services import opportunity_create, pipeline_default

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


@pytest.fixture
def board(make_user: Any) -> dict[str, Any]:
    rep = make_user("sales", username="rep")
    pipeline = pipeline_default()
    stages = list(pipeline.stages.order_by("position"))
    customer = customer_services.customer_create(actor=rep, name="张伟", phones=["13800138000"])
    other = customer_services.customer_create(actor=rep, name="李娜", phones=["13900139000"])
    cards = {
        name: opportunity_create(
            actor=rep, customer=customer if name != "C" else other, name=name, stage=stage, amount=amount
        )
        for name, stage, amount in (
            ("C", stages[1], "30000"),
            ("B", stages[0], "20000"),
            ("A", stages[0], "10000"),
        )
    }
    return {"rep": rep, "stages": stages, "cards": cards}


def card(page: Any, opportunity: Opportunity) -> Any:
    return page.locator(f"#card-{opportunity.pk}")


def column_names(page: Any, stage: Stage) -> list[str]:
    return page.locator(f'.kb-cards[data-stage="{stage.pk}"] .kb-title').all_inner_texts()


def drag(page: Any, source: Any, target: Any, *, below: bool = True) -> None:
    """A pointer drag in small steps, as a hand does it (SortableJS reads the native drag events)."""
    box = source.bounding_box()
    goal = target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 12)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 5, box["y"] + 20, steps=4)
    y = goal["y"] + (goal["height"] - 8 if below else 8)
    page.mouse.move(goal["x"] + goal["width"] / 2, y, steps=15)
    page.mouse.up()


def test_drag_between_and_within_stages(
    page: Any, live_server: Any, board: dict[str, Any], shot: Any
) -> None:
    stages, cards = board["stages"], board["cards"]
    sign_in(page, live_server, "rep")
    page.goto(f"{live_server.url}/opportunities/")
    assert column_names(page, stages[0]) == ["A", "B"]
    shot("kanban-board")

    # A from the first stage to below C in the second
    with page.expect_response(lambda r: r.url.endswith(f"/{cards['A'].pk}/move")):
        drag(page, card(page, cards["A"]), card(page, cards["C"]))
    page.wait_for_function(f"document.querySelector('#card-{cards['A'].pk}') !== null")
    assert column_names(page, stages[1]) == ["C", "A"]
    assert page.locator(".sidebar").count() == 1
    cards["A"].refresh_from_db()
    assert (cards["A"].stage_id, cards["A"].probability) == (stages[1].pk, 25)
    change = StageChange.objects.filter(opportunity=cards["A"]).order_by("id").last()
    assert change is not None and (change.from_stage_id, change.to_stage_id) == (stages[0].pk, stages[1].pk)
    assert change.changed_by == board["rep"]
    # The column's count and sum follow
    head = page.locator(f"#kb-col-{stages[1].pk}").locator("xpath=..").inner_text()
    assert "¥40,000.00" in head
    shot("kanban-after-drag")

    # Within the column: A above C
    with page.expect_response(lambda r: r.url.endswith(f"/{cards['A'].pk}/move")):
        drag(page, card(page, cards["A"]), card(page, cards["C"]), below=False)
    page.wait_for_timeout(300)
    assert column_names(page, stages[1]) == ["A", "C"]
    ordered = list(
        Opportunity.objects.filter(stage=stages[1]).order_by("position", "id").values_list("name", flat=True)
    )
    assert ordered == ["A", "C"]
    assert StageChange.objects.filter(opportunity=cards["A"]).count() == 2  # no stage change within a column


def test_drag_to_won_opens_the_dialog_and_cancel_puts_the_card_back(
    page: Any, live_server: Any, board: dict[str, Any], shot: Any
) -> None:
    stages, cards = board["stages"], board["cards"]
    sign_in(page, live_server, "rep")
    page.goto(f"{live_server.url}/opportunities/")
    won = page.locator('.kb-drop[data-kind="won"]')
    drag(page, card(page, cards["C"]), won)
    dialog = page.locator("dialog#close-dialog")
    dialog.wait_for()
    shot("kanban-won-dialog")
    dialog.locator("[data-dialog-cancel]").click()
    page.wait_for_function("!document.querySelector('dialog#close-dialog')")
    page.locator(f'.kb-cards[data-stage="{stages[1].pk}"] #card-{cards["C"].pk}').wait_for()
    cards["C"].refresh_from_db()
    assert cards["C"].status == "open"

    drag(page, card(page, cards["C"]), won)
    dialog.wait_for()
    dialog.locator("input[name=note]").fill("全款")
    with page.expect_response(lambda r: "close-won" in r.url):
        dialog.locator("button[type=submit]").click()
    page.wait_for_function(f"!document.querySelector('#card-{cards['C'].pk}')")
    cards["C"].refresh_from_db()
    assert (cards["C"].status, cards["C"].close_note) == ("won", "全款")


def test_the_keyboard_moves_a_card_and_keeps_the_focus(
    page: Any, live_server: Any, board: dict[str, Any], shot: Any
) -> None:
    stages, cards = board["stages"], board["cards"]
    sign_in(page, live_server, "rep")
    page.goto(f"{live_server.url}/opportunities/")
    # Tab to B's "on to the next stage" control, as a keyboard user does
    target = card(page, cards["B"]).locator('[data-control="next"]')
    label = target.get_attribute("aria-label")
    assert label and "B" in label and stages[1].name in label
    page.locator(f"#card-{cards['B'].pk} .kb-title").focus()
    for _ in range(4):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.control") == "next":
            break
    assert page.evaluate("document.activeElement.dataset.control") == "next"
    with page.expect_response(lambda r: r.url.endswith(f"/{cards['B'].pk}/move")):
        page.keyboard.press("Enter")
    page.wait_for_function(
        f"document.activeElement && document.activeElement.closest('#card-{cards['B'].pk}') !== null"
    )
    assert page.evaluate("document.activeElement.dataset.control") == "next"
    assert stages[1].name in page.locator("#board-status").inner_text()
    assert page.locator(".sidebar").count() == 1  # the board region came back alone, not a whole page
    cards["B"].refresh_from_db()
    assert cards["B"].stage_id == stages[1].pk
    shot("kanban-keyboard")

    # The stage picker: choose the lost stage, the dialog asks why
    picker = card(page, cards["B"]).locator('[data-control="pick"]')
    picker.focus()
    picker.select_option(str(stages[-1].pk))
    dialog = page.locator("dialog#close-dialog")
    dialog.wait_for()
    assert page.evaluate("document.activeElement.name") == "reason"
    page.keyboard.press("End")  # the last reason: other
    page.keyboard.press("Tab")
    page.keyboard.type("客户搬家")
    with page.expect_response(lambda r: "close-lost" in r.url):
        page.keyboard.press("Enter")
    page.wait_for_function(f"!document.querySelector('#card-{cards['B'].pk}')")
    cards["B"].refresh_from_db()
    assert (cards["B"].status, cards["B"].lost_reason, cards["B"].close_note) == ("lost", "other", "客户搬家")
