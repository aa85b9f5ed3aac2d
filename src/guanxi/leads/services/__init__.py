"""Every write to leads, their assignment rules and web forms goes through one of these functions."""

from guanxi.leads.services.capture import assign_by_rules, lead_capture_web, lead_create
from guanxi.leads.services.config import (
    form_create,
    form_update,
    rule_create,
    rule_delete,
    rule_move,
    rule_update,
)
from guanxi.leads.services.convert import lead_convert
from guanxi.leads.services.work import (
    LeadConverted,
    LeadNotOpen,
    lead_assign,
    lead_disqualify,
    lead_qualify,
    lead_rescore,
    lead_update,
)

__all__ = [
    "LeadConverted",
    "LeadNotOpen",
    "assign_by_rules",
    "form_create",
    "form_update",
    "lead_assign",
    "lead_capture_web",
    "lead_convert",
    "lead_create",
    "lead_disqualify",
    "lead_qualify",
    "lead_rescore",
    "lead_update",
    "rule_create",
    "rule_delete",
    "rule_move",
    "rule_update",
]
