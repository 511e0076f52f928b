"""Pages of the ledger linkage (人员比对): review queue, runs, decisions, merges and their undo."""

from django.urls import URLPattern, path

from shequ.ledgers import views_linkage as views

urlpatterns: list[URLPattern] = [
    path("", views.link_queue, name="link_queue"),
    path("run/", views.link_run, name="link_run"),
    path("<int:pk>/decide/", views.link_decide, name="link_decide"),
    path("merges/", views.merge_list, name="merge_list"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
]
