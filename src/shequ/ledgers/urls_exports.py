"""Pages of the ledger exports (filled in by its module)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
