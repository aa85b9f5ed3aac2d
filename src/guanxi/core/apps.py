from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "guanxi.core"
    label = "core"

    def ready(self) -> None:
        # Every app's background jobs, so services can queue them by name (core.tasks).
        autodiscover_modules("tasks")
