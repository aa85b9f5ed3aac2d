"""`guanxi demo_selling [--first-start]`: leads, opportunities, quotes, activities and tasks for the demo."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.activities.demo import demo_activities
from guanxi.activities.demo_tasks import demo_tasks
from guanxi.core.context import origin
from guanxi.core.errors import DomainError
from guanxi.customers.management.commands.setup_demo import demo_wanted
from guanxi.leads.demo import demo_leads
from guanxi.leads.models import Lead
from guanxi.opportunities.demo import demo_opportunities
from guanxi.opportunities.models import Opportunity
from guanxi.quotes.demo import demo_quotes
from guanxi.users.models import User


class Command(BaseCommand):
    help = (
        "Give the demo customers a sales side: opportunities across the pipeline, a month of leads from a "
        "web form, quotes in every state, logged calls and visits, and each rep's tasks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--first-start",
            action="store_true",
            help="Only when there are no leads or opportunities yet and demo data is wanted (make run).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["first_start"] and (
            not demo_wanted() or Lead.objects.exists() or Opportunity.objects.exists()
        ):
            return
        admin = User.objects.filter(role=User.Role.ADMIN, is_active=True).order_by("id").first()
        if admin is None:
            raise CommandError("Run `guanxi setup_demo` first: the demo needs its users and customers.")
        try:
            with origin("cli"):
                opportunities = demo_opportunities()
                leads = demo_leads(actor=admin)
                quotes = demo_quotes()
                activities = demo_activities()
                tasks = demo_tasks()
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.details}") from exc
        self.stdout.write(
            f"Loaded {opportunities.created} opportunities, {leads['created']} leads, "
            f"{quotes.created} quotes, {activities.activities} activities and {tasks.tasks} tasks."
        )
