"""`guanxi analytics refresh` and `guanxi analytics fit`: the analytics from a terminal."""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.analytics import services
from guanxi.analytics.models import ModelRun
from guanxi.core.context import origin
from guanxi.core.errors import DomainError
from guanxi.users.models import User

STEP_NAMES = {
    "read": "read the orders",
    "fit": "fitted the models",
    "score": "scored the customers",
    "recommend": "found the recommendations",
    "write": "stored the results",
}


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--until takes a date as YYYY-MM-DD, not {value!r}.") from exc


class Command(BaseCommand):
    help = (
        "refresh: recompute every customer's RFM segment, P(alive), expected purchases, CLV and "
        "recommendations from the orders, and move lifecycle stages by churn band (the task consumer "
        "also does this every night). fit: fit the BG/NBD and Gamma-Gamma models and print their "
        "parameters (time unit: day) and log-likelihoods, writing nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["refresh", "fit"])
        parser.add_argument("--until", help="The last day observed, YYYY-MM-DD (default: today).")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
        parser.add_argument(
            "--as", dest="username", help="refresh: the user who runs it (default: the system, as nightly)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        until = _date(options["until"]) if options["until"] else None
        if options["action"] == "fit":
            self._fit(until, as_json=options["json"])
        else:
            self._refresh(until, options["username"], as_json=options["json"])

    def _fit(self, until: date | None, *, as_json: bool) -> None:
        started = time.perf_counter()
        fit, base = services.analytics_fit(until=until)
        seconds = time.perf_counter() - started
        data = {
            "until": base.until.isoformat(),
            "time_unit": "day",
            "customers": fit.customers,
            "repeat_buyers": fit.repeat_buyers,
            "distinct_triples": fit.triples,
            "bgnbd": None
            if fit.bgnbd is None
            else {
                "r": fit.bgnbd.r,
                "alpha": fit.bgnbd.alpha,
                "a": fit.bgnbd.a,
                "b": fit.bgnbd.b,
                "log_likelihood": fit.bgnbd_log_likelihood,
            },
            "gamma_gamma": None
            if fit.gamma_gamma is None
            else {
                "p": fit.gamma_gamma.p,
                "q": fit.gamma_gamma.q,
                "gamma": fit.gamma_gamma.gamma,
                "log_likelihood": fit.gamma_gamma_log_likelihood,
            },
            "seconds": round(seconds, 3),
        }
        if as_json:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            f"{fit.customers:,} customers ({fit.repeat_buyers:,} repeat buyers) up to {data['until']}."
        )
        if fit.bgnbd is None:
            self.stdout.write("Too little purchase history to fit the models.")
            return
        self.stdout.write(
            f"BG/NBD (time unit: day): r={fit.bgnbd.r:.4f} alpha={fit.bgnbd.alpha:.4f} "
            f"a={fit.bgnbd.a:.4f} b={fit.bgnbd.b:.4f}, log-likelihood {fit.bgnbd_log_likelihood:.4f}"
        )
        if fit.gamma_gamma is not None:
            self.stdout.write(
                f"Gamma-Gamma: p={fit.gamma_gamma.p:.4f} q={fit.gamma_gamma.q:.4f} "
                f"gamma={fit.gamma_gamma.gamma:.4f}, log-likelihood {fit.gamma_gamma_log_likelihood:.4f}"
            )

    def _refresh(self, until: date | None, username: str | None, *, as_json: bool) -> None:
        actor = None
        if username:
            actor = User.objects.filter(username=username, is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {username}.")
        started = time.perf_counter()
        bar = self._bar if sys.stderr.isatty() and not as_json else None
        try:
            with origin("cli"):
                run = services.analytics_refresh(actor=actor, until=until, progress=bar)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if bar:
            self.stderr.write("")
        self._summary(run, time.perf_counter() - started, as_json=as_json)

    def _bar(self, step: str, done: int, total: int) -> None:
        width = 30
        filled = round(width * done / total)
        line = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {STEP_NAMES.get(step, step):<28}"
        self.stderr.write(line, ending="\r")
        self.stderr.flush()

    def _summary(self, run: ModelRun, seconds: float, *, as_json: bool) -> None:
        parameters = run.parameters
        if as_json:
            data = {
                "run": run.pk,
                "status": run.status,
                "model_version": run.model_version,
                "window_start": run.window_start.isoformat() if run.window_start else None,
                "window_end": run.window_end.isoformat() if run.window_end else None,
                "customers": run.customers,
                "orders": run.orders,
                "parameters": parameters,
                "bgnbd_log_likelihood": run.bgnbd_log_likelihood,
                "gamma_gamma_log_likelihood": run.gamma_gamma_log_likelihood,
                "seconds": round(seconds, 3),
            }
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        moves = parameters.get("stage_moves") or {}
        self.stdout.write(
            f"Refreshed the analytics of {run.customers:,} customers ({run.orders:,} orders, "
            f"{run.window_start or '—'} to {run.window_end}) in {seconds:.1f} s: run {run.pk}."
        )
        if "r" in parameters:
            self.stdout.write(
                f"BG/NBD r={parameters['r']:.4f} alpha={parameters['alpha']:.4f} a={parameters['a']:.4f} "
                f"b={parameters['b']:.4f} (days); log-likelihood {run.bgnbd_log_likelihood:.2f}."
            )
        else:
            self.stdout.write("Too little purchase history to fit the models: RFM only.")
        self.stdout.write(
            f"{parameters.get('product_pairs', 0):,} product pairs, "
            f"recommendations for {parameters.get('customers_with_recommendations', 0):,} customers "
            f"({parameters.get('recommendation_lists', 0):,} distinct lists); stage moves: "
            + (", ".join(f"{count:,} to {stage}" for stage, count in sorted(moves.items())) or "none")
            + "."
        )
