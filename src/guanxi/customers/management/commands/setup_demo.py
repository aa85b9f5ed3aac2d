"""`guanxi setup_demo`: run by `make run` after migrate.

On the first start (no users yet) it creates the demo organisation — `admin` and users of every role in
two teams, one random password written to DATA_DIR/demo-login.txt — and 1,000 demo customers of
GUANXI_DEMO_VERTICAL. On every start it prints how to sign in. GUANXI_DEMO=0 skips the demo data.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.core.context import origin
from guanxi.core.errors import DomainError
from guanxi.customers.demo import VERTICALS, demo_login, demo_setup
from guanxi.customers.management.commands.demo import describe, progress_printer


def demo_wanted() -> bool:
    value = str(getattr(settings, "GUANXI_DEMO", os.environ.get("GUANXI_DEMO", "1")))
    return value.strip().lower() not in {"0", "false", "no", "off"}


class Command(BaseCommand):
    help = "First start: create the demo organisation and demo customers. Every start: print how to sign in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=1000, help="Demo customers (default: 1000).")

    def handle(self, *args: Any, **options: Any) -> None:
        vertical = settings.GUANXI_DEMO_VERTICAL
        if vertical not in VERTICALS:
            raise CommandError(
                f"GUANXI_DEMO_VERTICAL must be one of {', '.join(VERTICALS)}, not {vertical!r}."
            )
        try:
            with origin("cli"):
                stats = demo_setup(
                    vertical=vertical,
                    customers=options["customers"],
                    with_data=demo_wanted(),
                    progress=progress_printer(self.stderr.write),
                )
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.details}") from exc
        if stats is not None:
            self.stdout.write(
                "Created the demo organisation: teams 华南一组 and 华东二组, users of every role."
            )
            self.stdout.write(describe(stats))
        self.stdout.write(self.login_message())

    def login_message(self) -> str:
        login = demo_login()
        if login.password:
            return (
                f"Demo login: {login.username} / {login.password}\n"
                "(Every demo user — manager_hn, sales_hn1, service_hn, viewer_hn, marketing, … — has "
                f"the same password; it is kept in {settings.DATA_DIR / 'demo-login.txt'}.)"
            )
        if login.username:
            return (
                f"Sign in as {login.username} with its password. "
                f"To set a new one: guanxi changepassword {login.username}"
            )
        if login.has_users:
            return (
                "Sign in with your account. No active administrator exists: guanxi createsuperuser makes one."
            )
        return (
            "No users yet (GUANXI_DEMO=0: no demo data). Create an administrator with: guanxi createsuperuser"
        )
