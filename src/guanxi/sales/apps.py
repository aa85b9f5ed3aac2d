from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        # Orders and refunds on the customer's 360 timeline: their renderers register themselves.
        from guanxi.sales import timeline  # noqa: F401
