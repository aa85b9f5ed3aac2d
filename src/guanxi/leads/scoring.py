"""A lead's score (0–100) and the reasons that make it up, so the number explains itself.

The rules read only the lead's own fields and how often the person reached us (captures, activities
logged), so the score is a pure function: the services store it on every change, the pages and the API
show the reasons in the reader's language (the stored reasons hold rule codes, not words).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

# Points for the source the lead came through; sources not listed add nothing.
SOURCE_POINTS = {
    "referral": 20,
    "partner": 15,
    "walk_in": 15,
    "event": 10,
    "phone": 10,
    "web": 10,
    "wechat": 10,
    "campaign": 5,
}
SOURCE_LABELS = {
    "referral": gettext_lazy("Came through a referral"),
    "partner": gettext_lazy("Came through a partner"),
    "walk_in": gettext_lazy("Walked into a store"),
    "event": gettext_lazy("Met at an event or fair"),
    "phone": gettext_lazy("Called us"),
    "web": gettext_lazy("Filled in a web form"),
    "wechat": gettext_lazy("Wrote to us on WeChat"),
    "campaign": gettext_lazy("Answered a campaign"),
}
# Completeness: (field, points when given, label, points when missing, label when missing).
COMPLETENESS = [
    ("phone", 15, gettext_lazy("Has a mobile number"), -10, gettext_lazy("No phone number")),
    ("email", 10, gettext_lazy("Has an email address"), 0, None),
    ("wechat_id", 5, gettext_lazy("Has a WeChat ID"), 0, None),
    ("company", 10, gettext_lazy("Gave a company"), 0, None),
    ("city", 5, gettext_lazy("Gave a city"), 0, None),
    (
        "interest",
        10,
        gettext_lazy("Said what they are interested in"),
        -5,
        gettext_lazy("Did not say what they want"),
    ),
    ("message", 5, gettext_lazy("Left a message"), 0, None),
]
CAPTURE_POINTS, CAPTURE_MAX = 10, 20
ACTIVITY_POINTS, ACTIVITY_MAX = 5, 20


@dataclass(frozen=True)
class Reason:
    rule: str
    points: int
    label: str

    @property
    def signed_points(self) -> str:
        """+20, −10 (a true minus sign)."""
        return f"{'+' if self.points >= 0 else '−'}{abs(self.points)}"

    @property
    def text(self) -> str:
        """“Came through a referral +20”, “No phone number −10”."""
        return f"{self.label} {self.signed_points}"


def score(
    fields: dict[str, Any], *, captures: int = 1, activities: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """The score (0–100) and its reasons as stored: [{"rule": ..., "points": ...}, ...]."""
    reasons: list[dict[str, Any]] = []
    source = str(fields.get("source") or "")
    if source in SOURCE_POINTS:
        reasons.append({"rule": f"source.{source}", "points": SOURCE_POINTS[source]})
    for field, plus, _label, minus, _missing in COMPLETENESS:
        if str(fields.get(field) or "").strip():
            reasons.append({"rule": f"has.{field}", "points": plus})
        elif minus:
            reasons.append({"rule": f"missing.{field}", "points": minus})
    if captures > 1:
        reasons.append(
            {
                "rule": "engagement.captures",
                "points": min((captures - 1) * CAPTURE_POINTS, CAPTURE_MAX),
                "count": captures,
            }
        )
    if activities > 0:
        reasons.append(
            {
                "rule": "engagement.activities",
                "points": min(activities * ACTIVITY_POINTS, ACTIVITY_MAX),
                "count": activities,
            }
        )
    total = sum(int(reason["points"]) for reason in reasons)
    return max(0, min(100, total)), reasons


def _label(reason: dict[str, Any]) -> str:
    rule = str(reason.get("rule", ""))
    kind, _sep, key = rule.partition(".")
    if kind == "source" and key in SOURCE_LABELS:
        return str(SOURCE_LABELS[key])
    for field, _plus, label, _minus, missing in COMPLETENESS:
        if key == field:
            if kind == "has":
                return str(label)
            if kind == "missing" and missing is not None:
                return str(missing)
    count = int(reason.get("count") or 0)
    if rule == "engagement.captures":
        return ngettext("Reached us %(count)d time", "Reached us %(count)d times", count) % {"count": count}
    if rule == "engagement.activities":
        return ngettext("%(count)d follow-up logged", "%(count)d follow-ups logged", count) % {"count": count}
    return _("Other")


def explain(reasons: Iterable[dict[str, Any]]) -> list[Reason]:
    """The stored reasons in words of the current language, biggest effect first."""
    explained = [Reason(str(r.get("rule", "")), int(r.get("points") or 0), _label(r)) for r in reasons]
    return sorted(explained, key=lambda reason: -abs(reason.points))
