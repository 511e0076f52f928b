"""Pages of the ledger imports under ``/ledgers/imports/`` (namespace ``ledgers``)."""

from django.urls import URLPattern, path

from shequ.ledgers import views_imports as views

urlpatterns: list[URLPattern] = [
    path("", views.import_list, name="import_list"),
    path("new/", views.import_new, name="import_new"),
    path("template.xlsx", views.import_template, name="import_template"),
    path("<int:pk>/", views.import_detail, name="import_detail"),
    path("<int:pk>/map/", views.import_map, name="import_map"),
    path("<int:pk>/check/", views.import_check, name="import_check"),
    path("<int:pk>/run/", views.import_run, name="import_run"),
    path("<int:pk>/errors.xlsx", views.import_errors, name="import_errors"),
    path("conflicts/", views.conflict_list, name="conflict_list"),
    path("conflicts/<int:pk>/resolve/", views.conflict_resolve, name="conflict_resolve"),
]
