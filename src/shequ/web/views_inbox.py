"""The in-app inbox (站内消息): the signed-in user's notifications, newest first, and "mark all read".

When e-mail is on (``SHEQU_EMAIL_HOST``) the page also carries the user's address for 邮件提醒.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequ.accounts.forms import NotificationEmailForm
from shequ.accounts.services import user_set_email
from shequ.core.delivery import email_enabled
from shequ.core.errors import ValidationFailed
from shequ.core.forms import apply_service_errors, paginate
from shequ.core.notifications import notification_list, notification_mark_read


def _render_inbox(request: HttpRequest, *, email_form: NotificationEmailForm | None = None,
                  status: int = 200) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page, query = paginate(request, notification_list(user=request.user, unread_only=unread_only))
    context: dict[str, Any] = {"page_obj": page, "query": query, "unread_only": unread_only}
    if email_enabled():
        context["email_form"] = email_form or NotificationEmailForm(initial={"email": request.user.email})
    return render(request, "web/inbox.html", context, status=status)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    return _render_inbox(request)


@login_required
@require_POST
def inbox_mark_read(request: HttpRequest) -> HttpResponse:
    count = notification_mark_read(user=request.user)
    if count:
        messages.success(request, _("已将 %(n)d 条消息标为已读。") % {"n": count})
    return redirect("inbox")


@login_required
@require_POST
def inbox_email(request: HttpRequest) -> HttpResponse:
    """Set or clear the signed-in user's address for 邮件提醒 (404 while e-mail is off)."""
    if not email_enabled():
        raise Http404
    form = NotificationEmailForm(request.POST)
    if not form.is_valid():
        return _render_inbox(request, email_form=form, status=400)
    try:
        user = user_set_email(actor=request.user, user=request.user, email=form.cleaned_data["email"])
    except ValidationFailed as exc:
        apply_service_errors(form, exc)
        return _render_inbox(request, email_form=form, status=400)
    if user.email:
        messages.success(request, _("邮件提醒将发送到 %(email)s。") % {"email": user.email})
    else:
        messages.success(request, _("已关闭邮件提醒，消息仍会出现在这里。"))
    return redirect("inbox")


urlpatterns = [
    path("inbox/", inbox, name="inbox"),
    path("inbox/read/", inbox_mark_read, name="inbox_mark_read"),
    path("inbox/email/", inbox_email, name="inbox_email"),
]
