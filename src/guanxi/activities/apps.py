from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "guanxi.activities"
    label = "activities"
    verbose_name = _("Activities and tasks")

    def ready(self) -> None:
        # Activities on the customer's 360 timeline: their renderer and email-state loader register.
        from guanxi.activities import timeline  # noqa: F401
