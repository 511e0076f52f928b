"""Public pages (no login): a community's disclosure board, vote results and meeting decisions."""

app_name = "public"
urlpatterns: list = []
