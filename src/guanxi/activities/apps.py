from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "guanxi.activities"
    label = "activities"
    verbose_name = _("Activities and tasks")

    def ready(self) -> None:
        # Activities and done tasks on the customer's 360 timeline: their renderers (and the email-state
        # loader) register themselves.
        from guanxi.activities import timeline, timeline_tasks  # noqa: F401
