"""`guanxi demo --vertical fuel|building|auto --customers N`: load realistic demo customers in bulk."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.core.context import origin
from guanxi.core.errors import DomainError
from guanxi.customers.demo import VERTICALS, DemoStats, demo_load


class Command(BaseCommand):
    help = (
        "Add realistic demo customers of a trade (fuel stations, building materials, car dealers) with "
        "phones, assets, tags and timelines, owned by the active sales people and managers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--vertical", choices=VERTICALS, default="fuel", help="The trade (default: fuel)."
        )
        parser.add_argument("--customers", type=int, default=1000, help="How many customers (default: 1000).")
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed, to load the same data again."
        )
        parser.add_argument(
            "--batch", type=int, default=5000, help="Customers per transaction (default: 5000)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["customers"] < 0:
            raise CommandError("--customers must be 0 or more.")
        try:
            with origin("cli"):
                stats = demo_load(
                    actor=None,
                    vertical=options["vertical"],
                    customers=options["customers"],
                    seed=options["seed"],
                    batch_size=options["batch"],
                    progress=progress_printer(self.stderr.write),
                )
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.details}") from exc
        self.stdout.write(describe(stats))
        if not stats.owners:
            self.stderr.write(
                "There are no active sales people or managers, so the customers have no owner: only "
                "administrators and marketing see them. Add users, then load again or assign customers."
            )


def progress_printer(write: Any) -> Any:
    """A progress callback that writes one line about every 5% (and at the end)."""
    state = {"next": 0.0}

    def report(done: int, total: int, seconds: float, rows: int) -> None:
        if done < total and done < state["next"] * total:
            return
        state["next"] = done / total + 0.05
        rate = done / seconds if seconds else 0.0
        write(
            f"{done:>10,}/{total:,} customers  {seconds:7.1f} s  {rate:>8,.0f} customers/s  "
            f"{rows / seconds if seconds else 0:>9,.0f} rows/s"
        )

    return report


def describe(stats: DemoStats) -> str:
    s = stats.summary()
    return (
        f"Loaded {s['customers']:,} {s['vertical']} customers (seed {s['seed']}) in {s['seconds']} s: "
        f"{s['phones']:,} phones, {s['emails']:,} emails, {s['contacts']:,} contacts, "
        f"{s['assets']:,} assets, "
        f"{s['tag_links']:,} tags given, {s['timeline_entries']:,} timeline entries."
    )
