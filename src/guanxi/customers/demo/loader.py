"""Loading demo data in bulk, and the demo organisation of a first start.

A bulk loader, not a per-record service: it writes whole batches of rows at once (SQLite executemany,
PostgreSQL COPY), one transaction per batch, and records one audit event "demo.load" that says what it
loaded. The search columns are computed by guanxi.core.search.search_document from the same values the
services index (customer_search_parts), so search works on demo data as on any other; SQLite's FTS5
tables follow through their insert triggers, PostgreSQL's indexes by themselves.
"""

from __future__ import annotations

import multiprocessing
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import connection, transaction
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record
from guanxi.core.errors import ValidationFailed
from guanxi.core.permissions import ensure_can
from guanxi.customers.demo.generator import COLUMNS, Batch, Generator, Owner
from guanxi.customers.demo.words import DEMO_TEAMS, DEMO_USERS, TAG_COLORS, TRADES
from guanxi.customers.models import Customer, Tag
from guanxi.customers.services.rows import highest_id, reserve_ids, write_rows
from guanxi.users.models import Team, User
from guanxi.users.services import team_create, user_create

VERTICALS = tuple(TRADES)
LOGIN_FILE = "demo-login.txt"
ADMIN_USERNAME = "admin"
ANALYZE_FROM = 10_000  # refresh the planner's statistics after loads this large
Progress = Callable[[int, int, float, int], None]  # (customers done, total, seconds, rows written)


@dataclass
class DemoStats:
    vertical: str
    seed: int
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    owners: int = 0

    @property
    def customers(self) -> int:
        return self.rows["customers_customer"]

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def summary(self) -> dict[str, Any]:
        names = {
            "customers_customer": "customers",
            "customers_customerphone": "phones",
            "customers_customeremail": "emails",
            "customers_contact": "contacts",
            "customers_asset": "assets",
            "customers_customer_tags": "tag_links",
            "customers_timelineentry": "timeline_entries",
        }
        return {
            "vertical": self.vertical,
            "seed": self.seed,
            "seconds": round(self.seconds, 1),
            "owners": self.owners,
            **{names[table]: count for table, count in self.rows.items()},
        }


def _tags(vertical: str) -> list[int]:
    """The ids of the vertical's tags, creating those missing."""
    names = TRADES[vertical].tags
    with transaction.atomic():
        found = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
        missing = [
            Tag(name=name, color=TAG_COLORS[i % len(TAG_COLORS)])
            for i, name in enumerate(names)
            if name not in found
        ]
        Tag.objects.bulk_create(missing)
        found.update(Tag.objects.filter(name__in=names).values_list("name", "id"))
    return [found[name] for name in names]


def _owners() -> tuple[list[Owner], list[int]]:
    """Active sales people and managers own the customers, sales people three times as many."""
    users = User.objects.filter(is_active=True, role__in=[User.Role.SALES, User.Role.MANAGER]).order_by("id")
    owners = [
        Owner(user_id=pk, team_id=team_id, weight=3.0 if role == User.Role.SALES else 1.0)
        for pk, team_id, role in users.values_list("pk", "team_id", "role")
    ]
    return owners, list(Team.objects.order_by("id").values_list("pk", flat=True))


def _highest_id() -> int:
    """The highest customer id ever handed out (a deleted customer's id included)."""
    return highest_id(Customer._meta.db_table)


def _write(batch: Batch, ids: list[int]) -> None:
    """Insert the batch's rows, its customers numbered by `ids`."""
    for table, columns in COLUMNS.items():
        write_rows(table, columns, [(ids[row[0]], *row[1:]) for row in batch.rows[table]])


def _produce(generator: Generator, plan: list[tuple[int, int]], queue: Any) -> None:
    for first, count in plan:
        queue.put(generator.batch(count, first))


def _batches(generator: Generator, customers: int, batch_size: int) -> Iterator[Batch]:
    """The batches in order. Large loads make them in a forked process while the loader writes.

    Making rows is Python work; writing them is the database's (SQLite's FTS5 triggers, PostgreSQL's
    indexes), so on two cores the two overlap. A thread would not do: it would fight the writer for the GIL.
    """
    plan = [(first, min(batch_size, customers - first)) for first in range(0, customers, batch_size)]
    if len(plan) < 3 or "fork" not in multiprocessing.get_all_start_methods():
        for first, count in plan:
            yield generator.batch(count, first)
        return
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=2)
    producer = context.Process(target=_produce, args=(generator, plan, queue), daemon=True)
    producer.start()
    try:
        for _ in plan:
            batch = None
            while batch is None:
                try:
                    batch = queue.get(timeout=1)
                except Empty:
                    if producer.exitcode is not None:
                        raise RuntimeError(
                            f"The demo data maker stopped (exit code {producer.exitcode})."
                        ) from None
            yield batch
    finally:
        if producer.is_alive():
            producer.terminate()
        producer.join()


def _analyze() -> None:
    """Fresh planner statistics after a large load; on PostgreSQL also VACUUM, which empties the GIN
    indexes' pending lists (every search reads them) and marks pages all-visible for index-only scans."""
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for table in COLUMNS:
            cursor.execute(f"{'VACUUM ANALYZE' if vacuum else 'ANALYZE'} {table}")


def demo_load(
    *,
    actor: User | None,
    vertical: str,
    customers: int,
    seed: int | None = None,
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> DemoStats:
    """Add `customers` realistic customers of a vertical, owned by the active sales people and managers.

    `actor` None is the installer (the CLI); a user must be allowed to manage users. The same seed on
    the same database gives the same customers.
    """
    if actor is not None:
        ensure_can(actor, "user.manage")
    if vertical not in TRADES:
        raise ValidationFailed(details={"vertical": [_("Choose one of: %s.") % ", ".join(VERTICALS)]})
    if customers < 0 or not 1 <= batch_size <= 50_000:
        raise ValidationFailed(details={"customers": [_("Enter a number of customers and a batch size.")]})
    seed = secrets.randbelow(2**31) if seed is None else seed
    began = time.monotonic()
    tag_ids = _tags(vertical)
    owners, team_ids = _owners()
    stats = DemoStats(vertical=vertical, seed=seed, owners=len(owners))
    generator = Generator(
        vertical=vertical,
        seed=seed,
        owners=owners,
        team_ids=team_ids,
        tag_ids=tag_ids,
        now=time.time(),
        total=customers,
        postgres=connection.vendor == "postgresql",
        serial_base=_highest_id(),
    )
    for batch in _batches(generator, customers, batch_size):
        with transaction.atomic():
            _write(batch, reserve_ids(Customer._meta.db_table, batch.count("customers_customer")))
        for table in COLUMNS:
            stats.rows[table] += batch.count(table)
        if progress:
            progress(stats.customers, customers, time.monotonic() - began, stats.total_rows)
    if customers >= ANALYZE_FROM:
        _analyze()
    stats.seconds = time.monotonic() - began
    with transaction.atomic():
        audit_record(actor=actor, action="demo.load", data=stats.summary())
    return stats


# -- the first start ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    """How to sign in, for the message printed on every start."""

    username: str = ""
    password: str = ""  # set only when the demo admin still has the password of the login file
    has_users: bool = False


def _login_file() -> Path:
    return Path(settings.DATA_DIR) / LOGIN_FILE


def _new_password() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))


def demo_setup(
    *, vertical: str, customers: int = 1000, with_data: bool = True, progress: Progress | None = None
) -> DemoStats | None:
    """On a first start (no users yet): the demo organisation and `customers` demo customers.

    Creates the administrator `admin` with a random password, written to DATA_DIR/demo-login.txt, the
    teams 华南一组 and 华东二组 and users of every role with the same password. Does nothing when any
    user exists, or when `with_data` is false (the installer then creates an administrator).
    """
    if not with_data or User.objects.exists():
        return None
    password = _new_password()
    with transaction.atomic():
        admin = user_create(
            actor=None,
            username=ADMIN_USERNAME,
            password=password,
            role=User.Role.ADMIN,
            full_name="系统管理员",
        )
        teams = [team_create(actor=admin, name=name) for name in DEMO_TEAMS]
        for username, full_name, role, team in DEMO_USERS:
            user_create(
                actor=admin,
                username=username,
                password=password,
                role=role,
                full_name=full_name,
                team=None if team is None else teams[team],
            )
        path = _login_file()
        path.write_text(
            "# Guanxi demo login, written by `guanxi setup_demo`. Every demo user has this password.\n"
            f"username: {ADMIN_USERNAME}\npassword: {password}\n",
            encoding="utf-8",
        )
        path.chmod(0o600)
    return demo_load(actor=None, vertical=vertical, customers=customers, progress=progress)


def demo_login() -> DemoLogin:
    """Who to sign in as: the demo admin and its password while the login file still holds it."""
    admin = User.objects.filter(role=User.Role.ADMIN, is_active=True).order_by("id").first()
    if admin is None:
        return DemoLogin(has_users=User.objects.exists())
    path = _login_file()
    if path.exists():
        values = dict(
            line.split(":", 1) for line in path.read_text(encoding="utf-8").splitlines() if ":" in line
        )
        username, password = values.get("username", "").strip(), values.get("password", "").strip()
        user = User.objects.filter(username=username, is_active=True).first()
        # check_password of the hashers module, not the user's: it never rewrites the stored hash.
        if user is not None and password and check_password(password, user.password):
            return DemoLogin(username=username, password=password, has_users=True)
    return DemoLogin(username=admin.username, has_users=True)
