from django.urls import include, path

from guanxi.config.api import api
from guanxi.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("", include("guanxi.core.urls")),
    path("", include("guanxi.users.urls")),
    path("customers/", include("guanxi.customers.urls")),
    path("imports/", include("guanxi.imports.urls")),
    path("catalog/", include("guanxi.catalog.urls")),
    path("sales/", include("guanxi.sales.urls")),
    path("opportunities/", include("guanxi.opportunities.urls")),
    path("leads/", include("guanxi.leads.urls")),
    path("quotes/", include("guanxi.quotes.urls")),
    path("activities/", include("guanxi.activities.urls")),
    path("tasks/", include("guanxi.activities.urls_tasks")),
    path("outbox/", include("guanxi.channels.urls")),
    path("analytics/", include("guanxi.analytics.urls_board")),
    path("audit/", include("guanxi.audit.urls")),
]
