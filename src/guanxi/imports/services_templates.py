"""Saved column mappings (import templates): which fit a file, applying one by hand, deleting one.

A template is saved from the mapping page (`services.import_job_map(template_name=…)`) and maps header
texts to field keys. Every importer may use every template of a target; only the user who saved it last
(its `created_by`) or an administrator may delete it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.core.permissions import ensure_can
from guanxi.imports.mapping import Target, mapping_from_template, mapping_guess
from guanxi.imports.models import ImportJob, ImportTemplate
from guanxi.imports.services import import_target
from guanxi.users.models import User


@dataclass(frozen=True)
class TemplateChoice:
    """A template as offered for one file: the mapping it gives that file's columns and how many it maps."""

    template: ImportTemplate
    mapping: list[str | None]
    may_delete: bool

    @property
    def mapped(self) -> int:
        return sum(1 for key in self.mapping if key)


def _may_delete(actor: User, template: ImportTemplate) -> bool:
    return actor.role == User.Role.ADMIN or (
        template.created_by_id is not None and template.created_by_id == actor.pk
    )


def import_template_choices(*, actor: User, job: ImportJob) -> list[TemplateChoice]:
    """The saved templates of the job's target applied to its columns, those that map the most columns
    first (then by name). One query for the templates; the rest is matching header texts in memory."""
    ensure_can(actor, "customer.import")
    target = import_target(job.target)
    choices = [
        TemplateChoice(
            template=template,
            mapping=mapping_from_template(job.headers, template.mapping, target),
            may_delete=_may_delete(actor, template),
        )
        for template in ImportTemplate.objects.filter(target=job.target)
    ]
    choices.sort(key=lambda choice: (-choice.mapped, choice.template.name))
    return choices


def mapping_for_header(header: Sequence[str], target: Target) -> list[str | None]:
    """The mapping a new file starts with: the newest saved template that maps at least as many columns
    as the guess from the headers, else the guess (the rule `services.import_job_create` applies)."""
    mapping = mapping_guess(header, target).mapping
    guessed = sum(1 for key in mapping if key)
    for template in ImportTemplate.objects.filter(target=target.key).order_by("-id"):
        from_template = mapping_from_template(header, template.mapping, target)
        if sum(1 for key in from_template if key) >= guessed:
            return from_template
    return mapping


def import_template_get(*, actor: User, template_id: int) -> ImportTemplate:
    ensure_can(actor, "customer.import")
    try:
        return ImportTemplate.objects.get(pk=template_id)
    except (ImportTemplate.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("Template not found.")) from exc


@transaction.atomic
def import_template_delete(*, actor: User, template: ImportTemplate) -> None:
    """Delete a saved mapping. Its owner (who saved it last) or an administrator may; jobs already mapped
    with it keep their mapping."""
    ensure_can(actor, "customer.import")
    if not _may_delete(actor, template):
        raise PermissionDenied(
            _("Only the user who saved this template, or an administrator, may delete it."),
            details={"template": template.pk},
        )
    audit_record(
        actor=actor,
        action="importtemplate.delete",
        target=template,
        data={"name": template.name, "target": template.target, "mapping": template.mapping},
    )
    template.delete()
