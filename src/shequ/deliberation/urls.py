"""Deliberation pages. Each views module declares its own ``urlpatterns``; they are joined here."""

import importlib

app_name = "deliberation"
urlpatterns: list = []
for _name in ("views_proposals", "views_meetings", "views_votes", "views_disclosure"):
    try:
        _module = importlib.import_module(f"shequ.deliberation.{_name}")
    except ModuleNotFoundError as exc:  # a module not written yet while the team works; see the commit log
        if exc.name != f"shequ.deliberation.{_name}":
            raise
        continue
    urlpatterns += _module.urlpatterns
