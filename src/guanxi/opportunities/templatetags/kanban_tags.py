"""{% kanban_cards cards column=… stages=… today=… may_change=… %}: the board's cards, drawn in Python.

The board shows up to 50 cards a column; drawn through the template language (or format_html), each card
(links, labels, the stage picker) cost about a millisecond, most of the board's time. Here what is the
same for a whole column (labels, the picker's options) is made once, and each card is one f-string of
values escaped with html.escape, so 200 cards cost a few milliseconds. The markup is the one
tests/browser/test_kanban.py and board.js rely on (ids, data-id, data-control, aria labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from typing import Any

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from guanxi.catalog.money import money_text
from guanxi.opportunities.models import Opportunity, Stage

register = template.Library()


def _get(column: Any, key: str) -> Any:
    return column.get(key) if isinstance(column, dict) else getattr(column, key)


class _Column:
    """What every card of one column shares, escaped once."""

    def __init__(self, column: Any, stages: Sequence[Stage]) -> None:
        stage = _get(column, "stage")
        self.before: Stage | None = _get(column, "prev_stage")
        self.after: Stage | None = _get(column, "next_stage")
        self.options = "".join(
            f'<option value="{s.pk}"{" selected" if s.pk == stage.pk else ""}>{escape(s.name)}</option>'
            for s in stages
        )
        self.back = _("Move %(name)s back to %(stage)s")
        self.on = _("Move %(name)s on to %(stage)s")
        self.pick = _("Move %(name)s to stage")

    def controls(self, url: str, name: str) -> str:
        parts = []
        if self.before is not None:
            label = escape(self.back % {"name": name, "stage": self.before.name})
            parts.append(
                f'<button type="button" class="kb-btn" data-control="prev" hx-post="{url}" '
                f'hx-vals=\'{{"stage": "{self.before.pk}"}}\' aria-label="{label}" '
                f'title="{escape(self.before.name)}">◀</button>'
            )
        label = escape(self.pick % {"name": name})
        parts.append(
            f'<select class="kb-pick" name="stage" data-control="pick" hx-post="{url}" hx-trigger="change" '
            f'aria-label="{label}">{self.options}</select>'
        )
        if self.after is not None:
            label = escape(self.on % {"name": name, "stage": self.after.name})
            parts.append(
                f'<button type="button" class="kb-btn" data-control="next" hx-post="{url}" '
                f'hx-vals=\'{{"stage": "{self.after.pk}"}}\' aria-label="{label}" '
                f'title="{escape(self.after.name)}">▶</button>'
            )
        return f'<span class="kb-controls">{"".join(parts)}</span>'


@register.simple_tag
def kanban_cards(
    cards: Sequence[Opportunity], *, column: Any, stages: Sequence[Stage], today: date, may_change: bool
) -> SafeString:
    """The cards of one column as <li> items (see the module)."""
    base = reverse("opportunity-detail", args=[0]).removesuffix("0/")
    shared = _Column(column, stages)
    overdue = escape(_("Overdue"))
    next_label = escape(_("Next step"))
    out = []
    for card in cards:
        late = card.expected_close is not None and card.expected_close < today
        close = ""
        if card.expected_close is not None:
            day = card.expected_close.isoformat()
            flag = f'<span class="kb-late">{overdue}</span> ' if late else ""
            close = f'<span class="kb-close">{flag}<time datetime="{day}">{day}</time></span>'
        step = (
            f'<div class="kb-next" title="{next_label}">→ {escape(card.next_step)}</div>'
            if card.next_step
            else ""
        )
        owner = escape(card.owner.display_name) if card.owner is not None else "—"
        controls = shared.controls(f"{base}{card.pk}/move", card.name) if may_change else ""
        out.append(
            f'<li class="kb-card{" kb-overdue" if late else ""}" id="card-{card.pk}" data-id="{card.pk}">'
            f'<a class="kb-title" href="{base}{card.pk}/">{escape(card.name)}</a>'
            f'<div class="kb-customer">{escape(card.customer.name)}</div>'
            f'<div class="kb-line"><strong class="kb-amount">{money_text(card.amount)}</strong>{close}</div>'
            f'{step}<div class="kb-foot"><span class="kb-owner">{owner}</span>{controls}</div></li>'
        )
    # Safe: every value put in the markup above went through html.escape (ids and dates are digits).
    return mark_safe("".join(out))
