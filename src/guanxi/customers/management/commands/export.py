"""`guanxi export customers`: a customer list as CSV or XLSX, for one user's scope and masking."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from guanxi.core.context import origin
from guanxi.core.errors import DomainError
from guanxi.customers.exports import CSV, XLSX, CustomerExport
from guanxi.customers.selectors import SORTS
from guanxi.users import selectors as user_selectors


class Command(BaseCommand):
    help = (
        "Export the customers a user may see, filtered as on the list page, as CSV (UTF-8 with BOM) or "
        "XLSX, with personal data masked when that user sees it masked. Writes to --output or stdout; "
        "records the export in the audit log."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["customers"], help="What to export.")
        parser.add_argument("--format", choices=[CSV, XLSX], default=CSV, help="File format (default: csv).")
        parser.add_argument(
            "--as", dest="username", required=True, help="The user whose scope, masking and rights apply."
        )
        parser.add_argument("--output", "-o", help="File to write (default: stdout).")
        parser.add_argument("--q", default="", help="Search, as the list page's search box.")
        parser.add_argument("--stage", default="", help="Lifecycle stage (lead, prospect, customer, …).")
        parser.add_argument("--tag", type=int, help="Tag id.")
        parser.add_argument("--owner", type=int, help="Owner's user id.")
        parser.add_argument("--team", type=int, help="Team id.")
        parser.add_argument("--source", default="", help="Source (walk_in, referral, …).")
        parser.add_argument("--city", default="", help="City.")
        parser.add_argument(
            "--kind", default="", choices=["", "person", "company"], help="person or company."
        )
        parser.add_argument(
            "--cf", action="append", default=[], metavar="KEY=VALUE", help="Custom field filter (repeatable)."
        )
        parser.add_argument(
            "--sort", default="newest", choices=list(SORTS), help="Row order (default: newest)."
        )
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            choices=[code for code, _name in settings.LANGUAGES],
            help=f"Language of the headers and labels (default: {settings.LANGUAGE_CODE}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        custom: dict[str, str] = {}
        for item in options["cf"]:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise CommandError(f"--cf takes KEY=VALUE, not {item!r}.")
            custom[key] = value
        filters = {
            name: options[name] for name in ("q", "stage", "tag", "owner", "team", "source", "city", "kind")
        }
        filters["custom"] = custom
        try:
            actor = user_selectors.user_get_by_username(username=options["username"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        with translation.override(options["language"]), origin("cli"):
            try:
                export = CustomerExport(
                    actor=actor, format=options["format"], filters=filters, sort=options["sort"]
                )
            except DomainError as exc:
                raise CommandError(f"{actor.username}: {exc.message}") from exc
            if options["output"] and options["output"] != "-":
                with Path(options["output"]).open("wb") as file:
                    export.write(file)
                self.stderr.write(f"{export.rows_written:,} customers written to {options['output']}.")
            else:
                export.write(self._binary_stdout(options["format"]))
                self.stderr.write(f"{export.rows_written:,} customers written.")

    def _binary_stdout(self, format: str) -> IO[bytes]:
        stream = getattr(self.stdout, "_out", sys.stdout)
        if format == XLSX and stream.isatty():
            raise CommandError("An XLSX file is binary: give --output FILE or redirect stdout.")
        binary = getattr(stream, "buffer", None)
        if binary is None:
            raise CommandError("stdout takes no bytes here: give --output FILE.")
        stream.flush()
        return binary
