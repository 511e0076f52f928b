"""Staff pages of 居务公开: the list of notices, publishing, a notice's versions and correcting it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from shequ.accounts.roles import Capability
from shequ.core.errors import Conflict, PermissionDenied, ValidationFailed
from shequ.core.forms import apply_service_errors, paginate
from shequ.deliberation import disclosure
from shequ.deliberation.forms_disclosure import NoticeCorrectForm, NoticeForm
from shequ.web.http import domain_errors


def _require_manager(request: HttpRequest) -> None:
    if not request.user.has_capability(Capability.DELIBERATION_MANAGE):  # type: ignore[union-attr]
        raise PermissionDenied()


@login_required
@domain_errors
def notice_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    communities = disclosure.managed_communities(actor=request.user)
    notices = disclosure.notice_list(actor=request.user)
    page, query = paginate(request, notices)
    counts = disclosure.series_revision_counts(page.object_list)
    return render(request, "deliberation/disclosure_list.html", {
        "page_obj": page, "query": query, "communities": communities, "revisions": counts,
    })


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def notice_publish(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    communities = disclosure.managed_communities(actor=request.user)
    form = NoticeForm(request.POST or None, request.FILES or None, communities=communities)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            notice = disclosure.notice_publish(
                actor=request.user, community=data["community"], category=data["category"], title=data["title"],
                body=data["body"], display_days=data["display_days"], attachments=data["attachments"],
                published_at=data["published_at"],
            )
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("已公开“%(title)s”。") % {"title": notice.title})
            return redirect("deliberation:notice_detail", pk=notice.pk)
    return render(request, "deliberation/disclosure_form.html", {"form": form, "notice": None})


@login_required
@domain_errors
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notice = disclosure.notice_get(actor=request.user, notice_id=pk)
    history = disclosure.notice_history(series=notice.series, published_only=False)
    return render(request, "deliberation/disclosure_detail.html", {
        "notice": notice, "history": [(n, disclosure.notice_attachments(n)) for n in reversed(history)],
        "latest": history[-1], "now": timezone.now(),
    })


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def notice_correct(request: HttpRequest, pk: int) -> HttpResponse:
    notice = disclosure.notice_get(actor=request.user, notice_id=pk)
    if notice.superseded_at is not None:
        messages.warning(request, str(disclosure.ALREADY_SUPERSEDED))
        return redirect("deliberation:notice_detail", pk=notice.pk)
    form = NoticeCorrectForm(request.POST or None, request.FILES or None,
                             initial={"title": notice.title, "body": notice.body})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            revision = disclosure.notice_correct(actor=request.user, notice=notice, title=data["title"],
                                                 body=data["body"], note=data["note"],
                                                 attachments=data["attachments"])
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("已发布更正（第%(n)d版），原文保留在公示记录中。") % {"n": revision.revision})
            return redirect("deliberation:notice_detail", pk=revision.pk)
    return render(request, "deliberation/disclosure_form.html", {"form": form, "notice": notice})


urlpatterns = [
    path("notices/", notice_list, name="notice_list"),
    path("notices/new/", notice_publish, name="notice_publish"),
    path("notices/<int:pk>/", notice_detail, name="notice_detail"),
    path("notices/<int:pk>/correct/", notice_correct, name="notice_correct"),
]
