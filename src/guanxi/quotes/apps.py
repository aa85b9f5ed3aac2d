from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuotesConfig(AppConfig):
    name = "guanxi.quotes"
    label = "quotes"
    verbose_name = _("Quotes")

    def ready(self) -> None:
        # Quotes drafted, sent, accepted and rejected on the customer's 360 timeline.
        from guanxi.quotes import timeline  # noqa: F401
