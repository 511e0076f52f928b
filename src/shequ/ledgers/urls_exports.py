"""Pages of the ledger exports (台账导出), under ``/ledgers/exports/``."""

from django.urls import URLPattern, path

from shequ.ledgers import views_exports as views

urlpatterns: list[URLPattern] = [
    path("", views.export_home, name="export_home"),
    path("download/", views.export_download, name="export_download"),
    path("requests/", views.export_request_list, name="export_request_list"),
    path("requests/new/", views.export_request_new, name="export_request_new"),
    path("requests/<int:pk>/decide/", views.export_request_decide, name="export_request_decide"),
    path("requests/<int:pk>/file/", views.export_request_file, name="export_request_file"),
]
