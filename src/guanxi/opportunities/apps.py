from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpportunitiesConfig(AppConfig):
    name = "guanxi.opportunities"
    label = "opportunities"
    verbose_name = _("Opportunities")

    def ready(self) -> None:
        # Opportunities on the customer's 360 timeline: their renderers register themselves.
        from guanxi.opportunities import timeline  # noqa: F401
