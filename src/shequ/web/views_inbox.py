"""The in-app inbox (站内消息): the signed-in user's notifications, newest first, and "mark all read"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequ.core.forms import paginate
from shequ.core.notifications import notification_list, notification_mark_read


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page, query = paginate(request, notification_list(user=request.user, unread_only=unread_only))
    return render(request, "web/inbox.html", {"page_obj": page, "query": query, "unread_only": unread_only})


@login_required
@require_POST
def inbox_mark_read(request: HttpRequest) -> HttpResponse:
    count = notification_mark_read(user=request.user)
    if count:
        messages.success(request, _("已将 %(n)d 条消息标为已读。") % {"n": count})
    return redirect("inbox")


urlpatterns = [
    path("inbox/", inbox, name="inbox"),
    path("inbox/read/", inbox_mark_read, name="inbox_mark_read"),
]
