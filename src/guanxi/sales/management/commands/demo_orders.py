"""`guanxi demo_orders [--vertical fuel|building|auto]`: years of demo orders for the stored customers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.core.context import origin
from guanxi.core.errors import DomainError
from guanxi.customers.management.commands.setup_demo import demo_wanted
from guanxi.sales.demo import VERTICALS, demo_orders_load
from guanxi.sales.models import Order


class Command(BaseCommand):
    help = (
        "Give every customer without orders a purchase history of the trade's kind (stores, products, "
        "orders, refunds and timeline entries), as the analytics models expect buying to happen."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--vertical",
            choices=VERTICALS,
            default=None,
            help="The trade (default: GUANXI_DEMO_VERTICAL).",
        )
        parser.add_argument("--seed", type=int, default=20240601, help="Random seed (default: 20240601).")
        parser.add_argument(
            "--chunk", type=int, default=1000, help="Customers per transaction (default: 1000)."
        )
        parser.add_argument(
            "--first-start",
            action="store_true",
            help="Only when there are no orders at all and demo data is wanted (make run).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["first_start"] and (not demo_wanted() or Order.objects.exists()):
            return
        vertical = options["vertical"] or settings.GUANXI_DEMO_VERTICAL
        if options["chunk"] < 1:
            raise CommandError("--chunk must be 1 or more.")

        def progress(done: int, total: int, orders: int) -> None:
            self.stderr.write(f"{done:>10,}/{total:,} customers  {orders:>12,} orders")

        try:
            with origin("cli"):
                stats = demo_orders_load(
                    actor=None,
                    vertical=vertical,
                    seed=options["seed"],
                    chunk=options["chunk"],
                    progress=progress,
                )
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.details}") from exc
        self.stdout.write(
            f"Loaded {stats.orders:,} {vertical} orders ({stats.lines:,} lines, {stats.refunds:,} refunds) "
            f"for {stats.buyers:,} of {stats.customers:,} customers in {stats.seconds:.1f} s."
        )
