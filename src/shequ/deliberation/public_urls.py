"""Public pages (no login): a community's disclosure board, vote results and meeting decisions."""

from shequ.deliberation.views_public import urlpatterns as urlpatterns  # noqa: PLC0414

app_name = "public"
