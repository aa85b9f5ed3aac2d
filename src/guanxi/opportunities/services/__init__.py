"""Writes of the opportunities app: opportunities and their moves, pipelines and their stages."""

from guanxi.opportunities.services.opportunities import (
    OpportunityAlreadyClosed,
    OpportunityNotClosed,
    opportunity_create,
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
    "opportunity_create",
    "pipeline_create",
    "pipeline_default",
    "pipeline_update",
    "stage_create",
    "stage_delete",
    "stage_reorder",
    "stage_update",
]
