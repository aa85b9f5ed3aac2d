"""Reads of pipelines and opportunities. An opportunity is visible by its own owner and team (the role's
scope: a sales rep sees their own, a manager their team's, an administrator all)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, F, Prefetch, Q, QuerySet, Sum, Value, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.catalog.money import CENT
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.permissions import ALL, TEAM, can, ensure_can, scope_of, scope_q
from guanxi.core.search import search_filter
from guanxi.customers.models import Customer
from guanxi.opportunities.models import ZERO, Opportunity, OpportunityLine, Pipeline, Stage, StageChange
from guanxi.users.models import Team, User

# Cards drawn per column; the rest come with "show more", so the board costs the same at any size.
COLUMN_CARDS = 50
MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=20, decimal_places=2)
SORTS = {
    "close": ("expected_close", "id"),
    "-close": ("-expected_close", "-id"),
    "amount": ("amount", "id"),
    "-amount": ("-amount", "-id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "stage": ("stage__position", "position", "id"),
    "-stage": ("-stage__position", "position", "id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "created": ("id",),
    "-created": ("-id",),
}


def _cents(value: Any) -> Decimal:
    """An aggregate as money: SQLite returns sums with whatever exponent its float arithmetic left."""
    return Decimal(value or 0).quantize(CENT)


def opportunity_scope(*, actor: User) -> QuerySet[Opportunity]:
    """The opportunities `actor` may see (their owner and team in the actor's scope)."""
    ensure_can(actor, "opportunity.view")
    return Opportunity.objects.filter(scope_q(actor))


def pipeline_list(*, actor: User) -> list[Pipeline]:
    """Active pipelines, in order. Anyone who may see opportunities may see the pipelines."""
    ensure_can(actor, "opportunity.view")
    return list(Pipeline.objects.filter(active=True).order_by("position", "id"))


def pipeline_list_with_stages(*, actor: User, include_inactive: bool = False) -> list[Pipeline]:
    """Pipelines with their active stages prefetched (`pipeline.stages.all()`), in two queries."""
    ensure_can(actor, "opportunity.view")
    pipelines = Pipeline.objects.all() if include_inactive else Pipeline.objects.filter(active=True)
    stages = Stage.objects.filter(active=True).order_by("position", "id")
    return list(pipelines.order_by("position", "id").prefetch_related(Prefetch("stages", queryset=stages)))


def pipeline_get(*, actor: User, pipeline_id: int) -> Pipeline:
    ensure_can(actor, "opportunity.view")
    try:
        return Pipeline.objects.get(pk=pipeline_id)
    except (Pipeline.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(_("Pipeline not found.")) from exc


def stage_get(*, actor: User, stage_id: int) -> Stage:
    ensure_can(actor, "opportunity.view")
    try:
        return Stage.objects.select_related("pipeline").get(pk=stage_id)
    except (Stage.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(_("Stage not found.")) from exc


def stage_list(*, actor: User, pipeline_id: int) -> list[Stage]:
    """The pipeline's active stages in board order."""
    ensure_can(actor, "opportunity.view")
    return list(Stage.objects.filter(pipeline_id=pipeline_id, active=True).order_by("position", "id"))


def stage_holdings_all(*, actor: User) -> dict[int, int]:
    """How many opportunities (any owner) each stage holds: for the settings page, in one query."""
    ensure_can(actor, "pipeline.manage")
    rows = Opportunity.objects.values("stage_id").annotate(n=Count("id")).order_by()
    return {row["stage_id"]: row["n"] for row in rows}


def _filtered(
    opportunities: QuerySet[Opportunity], *, actor: User, owner: str = "", team: Any = None, q: str = ""
) -> QuerySet[Opportunity]:
    if owner == "mine":
        opportunities = opportunities.filter(owner_id=actor.pk)
    elif str(owner).isdigit() and len(str(owner)) < 19:
        opportunities = opportunities.filter(owner_id=int(owner))
    if team not in (None, "") and str(team).isdigit() and len(str(team)) < 19:
        opportunities = opportunities.filter(team_id=int(team))
    term = (q or "").strip()
    if term:
        customers = search_filter(
            Customer.objects.filter(scope_q(actor)), term, fts_prefix="customers_search"
        ).values("pk")
        opportunities = opportunities.filter(Q(name__icontains=term) | Q(customer__in=customers))
    return opportunities


def opportunity_list(
    *,
    actor: User,
    pipeline_id: int | None = None,
    stage_id: int | None = None,
    status: str = "",
    owner: str = "",
    team: Any = None,
    customer_id: int | None = None,
    q: str = "",
    sort: str = "",
) -> QuerySet[Opportunity]:
    """Opportunities in scope matching the filters (`owner`: "mine" or a user id), sorted by a key of
    SORTS (default: newest first), with customer, stage, pipeline and owner joined."""
    opportunities = _filtered(opportunity_scope(actor=actor), actor=actor, owner=owner, team=team, q=q)
    if pipeline_id:
        opportunities = opportunities.filter(pipeline_id=pipeline_id)
    if stage_id:
        opportunities = opportunities.filter(stage_id=stage_id)
    if status:
        if status not in Opportunity.Status.values:
            raise ValidationFailed(
                details={"status": [_("“%(value)s” is not one of the allowed values.") % {"value": status}]}
            )
        opportunities = opportunities.filter(status=status)
    if customer_id:
        opportunities = opportunities.filter(customer_id=customer_id)
    return opportunities.select_related("customer", "stage", "pipeline", "owner").order_by(
        *SORTS.get(sort, ("-id",))
    )


def opportunity_get(*, actor: User, opportunity_id: int) -> Opportunity:
    """One opportunity with its lines (and products) and stage history (stages and who moved it)."""
    opportunities = opportunity_scope(actor=actor).select_related(
        "customer", "stage", "pipeline", "owner", "team", "order", "created_by"
    )
    opportunities = opportunities.prefetch_related(
        Prefetch("lines", queryset=OpportunityLine.objects.select_related("product")),
        Prefetch(
            "stage_changes",
            queryset=StageChange.objects.select_related("from_stage", "to_stage", "changed_by").order_by(
                "changed_at", "id"
            ),
        ),
    )
    try:
        return opportunities.get(pk=opportunity_id)
    except (Opportunity.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(_("Opportunity not found.")) from exc


def opportunity_brief(*, actor: User, opportunity_id: int) -> Opportunity:
    """One opportunity with its stage, no lines or history: for a move, which needs no more."""
    try:
        return opportunity_scope(actor=actor).select_related("stage", "customer").get(pk=opportunity_id)
    except (Opportunity.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(_("Opportunity not found.")) from exc


def stage_history(*, actor: User, opportunity: Opportunity) -> list[StageChange]:
    """The opportunity's moves, oldest first (NotFound when it is outside the actor's scope)."""
    if not opportunity_scope(actor=actor).filter(pk=opportunity.pk).exists():
        raise NotFound(_("Opportunity not found."))
    return list(
        StageChange.objects.filter(opportunity=opportunity)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("changed_at", "id")
    )


def opportunity_list_for_customer(*, actor: User, customer: Customer, limit: int = 20) -> list[Opportunity]:
    """The customer's opportunities the actor may see, open ones first then newest; empty for a role
    without `opportunity.view`, so the 360 page can always include them. Two queries at most."""
    if not can(actor, "opportunity.view"):
        return []
    opportunities = (
        Opportunity.objects.filter(scope_q(actor), customer=customer)
        .select_related("stage", "owner")
        .order_by(F("closed_at").desc(nulls_first=True), "-id")
    )
    return list(opportunities[:limit])


# ---------------------------------------------------------------------------------------------------
# The kanban board


@dataclass
class BoardColumn:
    stage: Stage
    cards: list[Opportunity] = field(default_factory=list)
    count: int = 0
    amount: Decimal = ZERO
    weighted: Decimal = ZERO
    # The open stages either side, for the cards' "previous / next stage" controls (next of the last
    # open stage: the won stage).
    prev_stage: Stage | None = None
    next_stage: Stage | None = None

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


@dataclass
class Board:
    pipeline: Pipeline
    pipelines: list[Pipeline]
    columns: list[BoardColumn]
    won: BoardColumn | None
    lost: BoardColumn | None
    stages: list[Stage]
    today: date
    month_start: datetime

    @property
    def count(self) -> int:
        return sum(column.count for column in self.columns)

    @property
    def amount(self) -> Decimal:
        return sum((column.amount for column in self.columns), ZERO)

    @property
    def weighted(self) -> Decimal:
        return sum((column.weighted for column in self.columns), ZERO)


def board_get(
    *,
    actor: User,
    pipeline_id: int | None = None,
    owner: str = "",
    team: Any = None,
    q: str = "",
    per_column: int = COLUMN_CARDS,
    pipelines: list[Pipeline] | None = None,
) -> Board:
    """The board of one pipeline (None: the first active one): a column per open stage with its first
    `per_column` cards (by position), count, amount and weighted amount, plus the won and lost stages with
    what closed this month. Four queries whatever the number of opportunities (pipelines, stages, the
    sums in one GROUP BY, the cards through one ROW_NUMBER() window)."""
    pipelines = pipeline_list(actor=actor) if pipelines is None else pipelines
    pipeline = next((p for p in pipelines if p.pk == pipeline_id), None) if pipeline_id else None
    if pipeline is None:
        if pipeline_id:
            raise NotFound(_("Pipeline not found."))
        if not pipelines:
            raise NotFound(_("There is no pipeline yet."))
        pipeline = pipelines[0]
    stages = list(Stage.objects.filter(pipeline=pipeline, active=True).order_by("position", "id"))
    now = timezone.localtime()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    scoped = _filtered(
        opportunity_scope(actor=actor).filter(pipeline=pipeline), actor=actor, owner=owner, team=team, q=q
    )
    sums = (
        scoped.filter(Q(status=Opportunity.Status.OPEN) | Q(closed_at__gte=month_start))
        .values("stage_id")
        .annotate(
            n=Count("id"),
            total=Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY),
            weighted_total=Coalesce(Sum(F("amount") * F("probability")), Value(ZERO), output_field=MONEY),
        )
        .order_by()
    )
    by_stage = {stage.pk: BoardColumn(stage=stage) for stage in stages}
    for row in sums:
        column = by_stage.get(row["stage_id"])
        if column is not None:
            column.count = row["n"]
            column.amount = _cents(row["total"])
            column.weighted = _cents(Decimal(row["weighted_total"] or 0) / 100)
    open_ids = [stage.pk for stage in stages if stage.kind == Stage.Kind.OPEN]
    if open_ids:
        # The first `per_column` of each column by one ROW_NUMBER() over the index's columns only (the
        # scan touches no customer or user row), then just those cards with what a card shows.
        ranked = (
            scoped.filter(stage_id__in=open_ids, status=Opportunity.Status.OPEN)
            .annotate(
                row=Window(
                    RowNumber(), partition_by=[F("stage_id")], order_by=[F("position").asc(), F("id").asc()]
                )
            )
            .filter(row__lte=per_column)
            .values_list("pk", flat=True)
        )
        for card in _cards(Opportunity.objects.filter(pk__in=list(ranked))).order_by(
            "stage_id", "position", "id"
        ):
            by_stage[card.stage_id].cards.append(card)
    columns = [by_stage[pk] for pk in open_ids]
    won = next((by_stage[s.pk] for s in stages if s.kind == Stage.Kind.WON), None)
    lost = next((by_stage[s.pk] for s in stages if s.kind == Stage.Kind.LOST), None)
    for column in columns:
        column.prev_stage, column.next_stage = neighbours(stages, column.stage)
    return Board(
        pipeline=pipeline,
        pipelines=pipelines,
        columns=columns,
        won=won,
        lost=lost,
        stages=stages,
        today=now.date(),
        month_start=month_start,
    )


def _cards(opportunities: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """What a card shows, and no more: a customer row carries its whole search text."""
    return opportunities.select_related("customer", "owner").only(
        "id",
        "name",
        "amount",
        "expected_close",
        "next_step",
        "stage_id",
        "position",
        "customer__id",
        "customer__name",
        "owner__id",
        "owner__username",
        "owner__full_name",
    )


def neighbours(stages: list[Stage], stage: Stage) -> tuple[Stage | None, Stage | None]:
    """The open stage before `stage` and the stage after it (the won stage after the last open one)."""
    open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
    index = next((i for i, s in enumerate(open_stages) if s.pk == stage.pk), None)
    if index is None:
        return None, None
    before = open_stages[index - 1] if index > 0 else None
    after = (
        open_stages[index + 1]
        if index + 1 < len(open_stages)
        else next((s for s in stages if s.kind == Stage.Kind.WON), None)
    )
    return before, after


def board_column_more(
    *,
    actor: User,
    stage: Stage,
    offset: int,
    owner: str = "",
    team: Any = None,
    q: str = "",
    limit: int = COLUMN_CARDS,
) -> tuple[list[Opportunity], int]:
    """The next `limit` cards of an open stage's column after `offset`, and how many remain after them."""
    scoped = _filtered(
        opportunity_scope(actor=actor).filter(stage=stage, status=Opportunity.Status.OPEN),
        actor=actor,
        owner=owner,
        team=team,
        q=q,
    )
    offset = max(0, int(offset))
    cards = list(
        scoped.select_related("customer", "owner").order_by("position", "id")[offset : offset + limit + 1]
    )
    remaining = 0
    if len(cards) > limit:
        remaining = scoped.count() - offset - limit
        cards = cards[:limit]
    return cards, remaining


def owner_choices(*, actor: User) -> list[User]:
    """The users whose opportunities the actor may filter by: themselves, their team or everyone."""
    ensure_can(actor, "opportunity.view")
    users = User.objects.filter(is_active=True).order_by("full_name", "username")
    scope = scope_of(actor)
    if scope == ALL:
        return list(users)
    team_id = getattr(actor, "team_id", None)
    if scope == TEAM and team_id is not None:
        return list(users.filter(Q(team_id=team_id) | Q(pk=actor.pk)))
    return list(users.filter(pk=actor.pk))


def team_choices(*, actor: User) -> list[Team]:
    """Teams worth filtering by: all for a role that sees all, else none (the scope is one team)."""
    ensure_can(actor, "opportunity.view")
    return list(Team.objects.order_by("name")) if scope_of(actor) == ALL else []
