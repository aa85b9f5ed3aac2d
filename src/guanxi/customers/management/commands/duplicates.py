"""`guanxi duplicates refresh`: find the duplicate pairs again, now, in this process."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from guanxi.core.context import origin
from guanxi.customers.duplicates import customer_duplicates_refresh


class Command(BaseCommand):
    help = (
        "refresh: find every pair of likely duplicate customers and replace the pairs the duplicate finder "
        "shows (the task consumer also does this every night, and on “Find again”). Reads every customer: "
        "about 30 s at a million."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["refresh"])

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        with origin("cli"):
            found = customer_duplicates_refresh()
        self.stdout.write(f"Found {found:,} duplicate pairs in {time.perf_counter() - started:.1f} s.")
