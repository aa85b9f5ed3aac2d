"""`guanxi reindex`: rebuild every customer's search columns after the normalisation changed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.core.context import origin
from guanxi.customers.services.reindex import customer_reindex_all


class Command(BaseCommand):
    help = (
        "Rebuild the search columns (name, pinyin, initials, phones, emails, plates, codes) of every "
        "customer. Needed after an upgrade that changes how names or numbers are normalised; safe to run "
        "again, and it writes only the customers whose columns change."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", type=int, default=2000, help="Customers per batch and transaction (default: 2000)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"] < 1:
            raise CommandError("--batch must be 1 or more.")
        state = {"next": 0.0}

        def report(done: int, total: int, seconds: float) -> None:
            if done < total and done < state["next"] * total:
                return
            state["next"] = done / total + 0.05 if total else 1.0
            self.stderr.write(f"{done:>10,}/{total:,} customers  {seconds:7.1f} s")

        with origin("cli"):
            stats = customer_reindex_all(actor=None, batch_size=options["batch"], progress=report)
        self.stdout.write(
            f"Reindexed {stats.customers:,} customers in {stats.seconds:.1f} s: "
            f"{stats.changed:,} changed, {stats.customers - stats.changed:,} already current."
        )
