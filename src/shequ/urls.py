"""URL map. Each app owns its own ``urls.py``; the API and Open311 live under their own prefixes."""

from django.urls import include, path

from shequ.api import api

urlpatterns = [
    path("", include("shequ.web.urls")),
    path("", include("shequ.accounts.urls")),
    path("registry/", include("shequ.registry.urls")),
    path("audit/", include("shequ.core.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("shequ.accounts.manage_urls")),
    path("deliberation/", include("shequ.deliberation.urls")),
    path("c/", include("shequ.deliberation.public_urls")),
    path("cases/", include("shequ.cases.urls")),
    path("open311/v2/", include("shequ.cases.open311_urls")),
    path("ledgers/", include("shequ.ledgers.urls")),
]
