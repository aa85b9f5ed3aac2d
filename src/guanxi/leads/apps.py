from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "guanxi.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        # A lead's conversion on the customer's 360 timeline: its renderer registers itself.
        from guanxi.leads import timeline  # noqa: F401
