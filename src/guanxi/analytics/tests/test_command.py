"""`guanxi analytics refresh` and `guanxi analytics fit`."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from guanxi.analytics.estimation import bgnbd
from guanxi.analytics.models import CustomerMetrics, ModelRun
from guanxi.analytics.purchases import base_read
from guanxi.analytics.tests.orders import UNTIL, synthetic_base
from guanxi.audit.models import AuditEvent
from guanxi.users.models import User


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("analytics", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def base(admin: User) -> list[Any]:
    return synthetic_base(admin, 40)


def test_fit_prints_the_parameters_and_writes_nothing(base: list[Any]) -> None:
    # when
    out, _err = run("fit", "--until", UNTIL.isoformat(), "--json")

    # then the parameters are the estimation's fit of the customers' (x, t_x, T), in days
    data = json.loads(out)
    summary = base_read(until=UNTIL, window_days=365)
    expected = bgnbd.fit(summary.frequency, summary.t_x, summary.age)
    assert data["until"] == "2025-06-30"
    assert data["time_unit"] == "day"
    assert data["customers"] == len(base)
    assert data["bgnbd"]["r"] == pytest.approx(expected.r, rel=1e-6)
    assert data["bgnbd"]["alpha"] == pytest.approx(expected.alpha, rel=1e-6)
    assert data["bgnbd"]["log_likelihood"] == pytest.approx(expected.log_likelihood, rel=1e-9)
    assert set(data["gamma_gamma"]) == {"p", "q", "gamma", "log_likelihood"}
    assert not ModelRun.objects.exists()
    assert not CustomerMetrics.objects.exists()


def test_fit_in_words(base: list[Any]) -> None:
    out, _err = run("fit", "--until", UNTIL.isoformat())
    assert out.startswith(f"{len(base)} customers (")
    assert "BG/NBD (time unit: day): r=" in out
    assert "Gamma-Gamma: p=" in out


def test_refresh_stores_everything_and_sums_up(base: list[Any]) -> None:
    # when (not a terminal: no progress bar)
    out, err = run("refresh", "--until", UNTIL.isoformat())

    # then
    stored = ModelRun.objects.get()
    assert stored.status == "succeeded"
    assert CustomerMetrics.objects.count() == len(base)
    assert out.startswith(f"Refreshed the analytics of {len(base)} customers (")
    assert f"run {stored.pk}." in out
    assert "BG/NBD r=" in out
    assert err == ""
    event = AuditEvent.objects.get(action="analytics.refresh")
    assert event.via == "cli" and event.actor_label == "system"


def test_refresh_as_json(base: list[Any]) -> None:
    out, _err = run("refresh", "--until", UNTIL.isoformat(), "--json")
    data = json.loads(out)
    assert data["status"] == "succeeded"
    assert data["window_end"] == "2025-06-30"
    assert data["customers"] == len(base)
    assert {"r", "alpha", "a", "b"} <= set(data["parameters"])


def test_refresh_draws_a_bar_on_a_terminal(base: list[Any], monkeypatch: Any) -> None:
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(err, "isatty", lambda: True, raising=False)
    call_command("analytics", "refresh", "--until", UNTIL.isoformat(), stdout=out, stderr=err)
    assert "5/5 stored the results" in err.getvalue()
    assert "[##############################]" in err.getvalue()


def test_refresh_as_a_user_who_may_not_is_refused(base: list[Any], make_user: Any) -> None:
    make_user("sales", username="xiaoli")
    with pytest.raises(CommandError, match="not allowed"):
        run("refresh", "--as", "xiaoli")
    with pytest.raises(CommandError, match="No active user nobody"):
        run("refresh", "--as", "nobody")
    assert not ModelRun.objects.exists()


def test_a_bad_date_is_refused(db: Any) -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("fit", "--until", "30/06/2025")
