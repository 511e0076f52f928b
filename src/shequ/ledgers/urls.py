"""Ledger pages under ``/ledgers/``: imports, record linkage and exports each keep their own URL module."""

from django.urls import include, path

from shequ.ledgers import urls_exports, urls_imports, urls_linkage
from shequ.ledgers.views_home import ledger_home

app_name = "ledgers"

urlpatterns = [
    path("", ledger_home, name="home"),
    path("imports/", include(urls_imports.urlpatterns)),
    path("linkage/", include(urls_linkage.urlpatterns)),
    path("exports/", include(urls_exports.urlpatterns)),
]
