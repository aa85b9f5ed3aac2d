"""Writes of the opportunities app: opportunities and their moves, pipelines and their stages."""

from guanxi.opportunities.services.moves import (
    opportunity_close_lost,
    opportunity_close_won,
    opportunity_move,
    opportunity_reopen,
)
from guanxi.opportunities.services.opportunities import (
    OpportunityAlreadyClosed,
    OpportunityNotClosed,
    opportunity_create,
    opportunity_update,
)
from guanxi.opportunities.services.pipelines import (
    StageNotEmpty,
    pipeline_create,
    pipeline_default,
    pipeline_update,
    stage_create,
    stage_delete,
    stage_reorder,
    stage_update,
)

__all__ = [
    "OpportunityAlreadyClosed",
    "OpportunityNotClosed",
    "StageNotEmpty",
    "opportunity_close_lost",
    "opportunity_close_won",
    "opportunity_create",
    "opportunity_move",
    "opportunity_reopen",
    "opportunity_update",
    "pipeline_create",
    "pipeline_default",
    "pipeline_update",
    "stage_create",
    "stage_delete",
    "stage_reorder",
    "stage_update",
]
