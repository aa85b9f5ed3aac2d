"""`guanxi import customers|orders|leads FILE`: import a CSV, XLSX or vCard file through the web's service."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.core.context import origin
from guanxi.core.errors import DomainError
from guanxi.imports import selectors, services, services_sheet
from guanxi.imports.models import ImportJob
from guanxi.users.models import User

COUNTS = ("created", "updated", "merged", "skipped", "rejected")


class Command(BaseCommand):
    help = (
        "Import customers from a CSV (UTF-8, GBK/GB18030, UTF-16), XLSX or vCard file. Columns are "
        "mapped from their headers (姓名, 手机, 生日, … or Name, Mobile, Birthday, …) or a saved template. "
        "Rows that match a stored customer by mobile number, email or WeChat ID are merged (default), "
        "skipped or updated. Safe to run again: nobody is created twice. `guanxi import orders FILE` "
        "books a POS or card system's orders (日期, 手机/会员号, 金额 or 商品 and 数量, 门店, 订单号…); "
        "running it again books nothing twice. `guanxi import leads FILE` captures leads (姓名, 手机, 邮箱, "
        "微信, 公司, 城市, 来源, 意向, 留言…) by the leads' rules: a repeat of an open lead's phone or email "
        "is merged into it; running it again creates nobody twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", choices=["customers", "orders", "leads"], help="What the file holds.")
        parser.add_argument("file", help="The file to import.")
        parser.add_argument(
            "--on-duplicate",
            choices=ImportJob.OnDuplicate.values,
            default=ImportJob.OnDuplicate.MERGE,
            help="What to do with a row that is a stored customer (default: merge).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check every row; write no customer.")
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")
        parser.add_argument("--as", dest="username", help="The user who imports (default: an administrator).")
        parser.add_argument(
            "--sheet",
            default="",
            metavar="NAME",
            help="The worksheet of an XLSX file to read (default: the first that holds anything).",
        )
        parser.add_argument("--rejected", help="Write the rejected rows to this CSV file.")
        parser.add_argument(
            "--batch",
            type=int,
            default=services.BATCH_SIZE,
            help=f"Rows per transaction (default: {services.BATCH_SIZE}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        if options["batch"] < 1:
            raise CommandError("--batch must be 1 or more.")
        actor = self._actor(options["username"])
        try:
            with origin("cli"), path.open("rb") as file:
                job = services_sheet.import_job_upload(
                    actor=actor,
                    file=file,
                    file_name=path.name,
                    target=options["target"],
                    on_duplicate=options["on_duplicate"],
                    dry_run=options["dry_run"],
                    sheet=options["sheet"],
                )
                self._say_sheet(job)
                services.import_job_start(actor=actor, job=job, queue=False)
                job = services.import_job_run(job_id=job.pk, progress=self._bar, batch_size=options["batch"])
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.details or ''}".strip()) from exc
        self.stderr.write("")
        if options["rejected"] and job.rejected:
            with open(options["rejected"], "w", encoding="utf-8", newline="") as out:
                for chunk in selectors.rejected_rows_csv(job):
                    out.write(chunk)
        self._summary(job, as_json=options["json"], rejected_file=options["rejected"])

    def _actor(self, username: str | None) -> User:
        users = User.objects.filter(is_active=True)
        user = (
            users.filter(username=username).first()
            if username
            else users.filter(role=User.Role.ADMIN).order_by("id").first()
        )
        if user is None:
            raise CommandError(f"No active user {username}." if username else "No active administrator.")
        return user

    def _say_sheet(self, job: ImportJob) -> None:
        """Which sheet of a workbook of several is read, and the others, so a wrong guess is seen."""
        sheets = services_sheet.import_job_sheets(job)
        if len(sheets) < 2:
            return
        sheet = services_sheet.import_job_sheet(job, sheets)
        others = ", ".join(s.name + ("" if s.filled else " (empty)") for s in sheets if s.name != sheet)
        self.stderr.write(
            f"Reading the sheet {sheet}; the workbook also has: {others} (choose with --sheet NAME)."
        )

    def _bar(self, job: ImportJob) -> None:
        width = 30
        filled = round(width * job.percent / 100)
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {job.percent:3d}%  {job.rows_done:,} rows  "
            + "  ".join(f"{key} {getattr(job, key):,}" for key in COUNTS)
        )
        ending = "\r" if sys.stderr.isatty() else "\n"
        self.stderr.write(line, ending=ending)

    def _summary(self, job: ImportJob, *, as_json: bool, rejected_file: str | None) -> None:
        if as_json:
            data = {
                "job": job.pk,
                "status": job.status,
                "dry_run": job.dry_run,
                "rows": job.rows_done,
                **{key: getattr(job, key) for key in COUNTS},
                "rejections": [
                    {"row": r.row_number, "column": r.column, "value": r.value, "reason": r.reason}
                    for r in job.rejections.all()[:1000]
                ],
            }
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        verb = "Checked" if job.dry_run else "Imported"
        self.stdout.write(
            f"{verb} {job.rows_done:,} rows of {job.file_name}: "
            + ", ".join(f"{getattr(job, key):,} {key}" for key in COUNTS)
            + (" (dry run: nothing was written)." if job.dry_run else ".")
        )
        for rejection in job.rejections.all()[:20]:
            self.stdout.write(f"  row {rejection.row_number}, {rejection.column}: {rejection.reason}")
        if job.rejected > 20:
            self.stdout.write(f"  … and more: see --rejected FILE or the import page (job {job.pk}).")
        if rejected_file and job.rejected:
            self.stdout.write(f"Rejected rows written to {rejected_file}.")
