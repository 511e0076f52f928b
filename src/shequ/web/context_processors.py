"""Navigation entries for the base layout, filtered by what the signed-in user may do."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    from shequ.web.navigation import nav_items

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    from shequ.core.models import Notification

    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()  # one query: the top-bar badge
    return {"nav_items": nav_items(request), "unread_count": unread}
