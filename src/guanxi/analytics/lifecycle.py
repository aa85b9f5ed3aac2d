"""Lifecycle stages that follow the churn bands, moved in bulk with their audit events and timeline entries.

- A customer with orders whose band is at risk or churned gets that stage.
- A customer at risk or churned whose band is active again (they bought again) goes back to
  repeat customer with two orders or more, else to customer.
Leads, prospects and customers without orders are left alone: the bands say nothing about them.

Each move is an UPDATE that matches only while the stage is still the one read, so a stage someone
changes meanwhile is left as they set it, and only the moves that happened get an audit event and a
timeline entry ("customer.update" / "customer.changed" with the stage's old and new value), as a change
made through the customer services would.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import numpy as np
from django.db import connection

from guanxi.analytics.models import Band, CustomerMetrics
from guanxi.audit.models import AuditEvent
from guanxi.audit.services import audit_event
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.customers.services.rows import db_json, db_time, write_rows

Stage = Customer.Stage
STAGES: tuple[str, ...] = tuple(Stage.values)
CHUNK = 2000
AUDIT_COLUMNS = (
    "occurred_at",
    "actor_id",
    "actor_label",
    "via",
    "ip",
    "user_agent",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "changes",
    "data",
)
ENTRY_COLUMNS = ("customer_id", "occurred_at", "kind", "actor_id", "data")


def _moves_sql(metrics: str) -> tuple[str, list[Any]]:
    customers = Customer._meta.db_table
    sql = f"""
        SELECT c.id, c.stage, m.band, m.orders_count
        FROM {customers} c JOIN {metrics} m ON m.customer_id = c.id
        WHERE (m.band IN (%s, %s) AND c.stage <> m.band) OR (m.band = %s AND c.stage IN (%s, %s))
    """
    return sql, [Band.AT_RISK, Band.CHURNED, Band.ACTIVE, Stage.AT_RISK, Stage.CHURNED]


def _target(band: str, orders: int) -> str:
    if band == Band.ACTIVE:
        return Stage.REPEAT if orders >= 2 else Stage.CUSTOMER
    return band  # the bands at_risk and churned are stages of the same name


def stages_follow_bands(
    *, actor: Any, run_id: int, now: datetime, metrics: str = CustomerMetrics._meta.db_table
) -> dict[str, int]:
    """Move the stages of the customers in the metrics table `metrics` (the new rows, before they take
    the stored ones' place); returns the moves by new stage. Runs inside the caller's transaction."""
    sql, params = _moves_sql(metrics)
    chunks = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(20_000):
            chunks.append(
                np.array(
                    [
                        (pk, STAGES.index(old), STAGES.index(_target(band, orders)))
                        for pk, old, band, orders in rows
                    ],
                    dtype=np.int64,
                ).reshape(len(rows), 3)
            )
    if not chunks:
        return {}
    moves = np.concatenate(chunks)
    template = audit_event(actor=actor, action="")
    who = (template.actor_id, template.actor_label, template.via, template.ip, template.user_agent)
    actor_id = template.actor_id
    stamp = db_time(now)
    target_type = Customer._meta.label_lower
    data = db_json({"analytics_run": run_id})
    moved: Counter[str] = Counter()
    for old, new in sorted({(int(o), int(n)) for o, n in moves[:, 1:]}):
        ids = moves[(moves[:, 1] == old) & (moves[:, 2] == new), 0]
        before, after = STAGES[old], STAGES[new]
        changes = db_json({"stage": [before, after]})
        entry = db_json({"changes": {"stage": [before, after]}, "analytics_run": run_id})
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK].tolist()
            marks = ", ".join(["%s"] * len(chunk))
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Customer._meta.db_table} SET stage = %s, updated_at = %s "
                    f"WHERE stage = %s AND id IN ({marks}) RETURNING id, name",
                    [after, stamp, before, *chunk],
                )
                changed = cursor.fetchall()
            write_rows(
                AuditEvent._meta.db_table,
                AUDIT_COLUMNS,
                [
                    (stamp, *who, "customer.update", target_type, str(pk), name[:200], changes, data)
                    for pk, name in changed
                ],
            )
            write_rows(
                TimelineEntry._meta.db_table,
                ENTRY_COLUMNS,
                [(pk, stamp, "customer.changed", actor_id, entry) for pk, _name in changed],
            )
            moved[after] += len(changed)
    return dict(moved)
