"""Proposal pages (社区提案): list, detail with supports and comments, create, moderation, topics, rules."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shequ.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shequ.core.forms import apply_service_errors, paginate
from shequ.deliberation import deliberation_selectors as sel
from shequ.deliberation import proposals as services
from shequ.deliberation.choices import ProposalStatus, ThresholdKind
from shequ.deliberation.forms_meetings import CommentForm, HideForm, ProposalForm, RulesForm, TopicForm
from shequ.web.http import domain_errors


@login_required
@domain_errors
def proposal_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in ProposalStatus.values:
        status = ""
    items = sel.proposal_list(actor=request.user, status=status or None, q=request.GET.get("q", "").strip())
    page, query = paginate(request, items)
    communities = sel.manageable_communities(actor=request.user)
    return render(request, "deliberation/proposals_list.html", {
        "page_obj": page, "query": query, "status": status, "statuses": ProposalStatus.choices,
        "can_create": sel.proposal_places(actor=request.user).exists(),
        "communities": communities, "is_manager": communities.exists(),
    })


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def proposal_create(request: HttpRequest) -> HttpResponse:
    places = sel.proposal_places(actor=request.user)
    if not places.exists():
        raise PermissionDenied(services.NOT_A_RESIDENT)
    form = ProposalForm(request.POST or None, request.FILES or None, places=places, initial={"place": places.last()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            proposal = services.proposal_create(actor=request.user, place=data["place"], title=data["title"],
                                                body=data["body"], category=data["category"], photos=data["photos"])
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("提案已提交，邀请邻居们附议吧。"))
            return redirect("deliberation:proposal_detail", pk=proposal.pk)
    return render(request, "deliberation/proposals_form.html", {"form": form})


def _detail(request: HttpRequest, proposal: Any, *, comment_form: CommentForm | None = None,
            hide_errors: dict[int, str] | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    manager = services.can_manage(user, proposal.scope_path)
    resident = services.takes_part_at(user, proposal.scope_path)
    supported = sel.has_supported(actor=user, proposal=proposal)
    return render(request, "deliberation/proposals_detail.html", {
        "proposal": proposal,
        "proposer_name": sel.participant_name(proposal.proposer),
        "photos": sel.attachments_of(proposal),
        "comments": sel.proposal_comments(proposal=proposal),
        "supported": supported,
        "can_support": resident and proposal.status == ProposalStatus.OPEN and proposal.proposer_id != user.pk
        and not supported,
        "is_proposer": proposal.proposer_id == user.pk,
        "can_comment": resident or manager,
        "can_moderate": manager,
        "comment_form": comment_form or CommentForm(),
        "hide_errors": hide_errors or {},
        "percent": min(100, round(100 * proposal.support_count / proposal.threshold)) if proposal.threshold else 0,
    }, status=status)


@login_required
@domain_errors
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, sel.proposal_get(actor=request.user, proposal_id=pk))


@login_required
@domain_errors
@require_POST
def proposal_support(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = sel.proposal_get(actor=request.user, proposal_id=pk)
    try:
        proposal = services.proposal_support(actor=request.user, proposal=proposal)
    except ValidationFailed as exc:
        messages.error(request, exc.first_message())
    else:
        if proposal.status == ProposalStatus.TOPIC:
            messages.success(request, _("附议成功！附议人数已达到门槛，提案已成为社区议题。"))
        else:
            messages.success(request, _("附议成功。"))
    return redirect("deliberation:proposal_detail", pk=pk)


@login_required
@domain_errors
@require_POST
def proposal_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = sel.proposal_get(actor=request.user, proposal_id=pk)
    try:
        services.proposal_withdraw(actor=request.user, proposal=proposal, version=request.POST.get("version") or None)
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, exc.first_message() if isinstance(exc, ValidationFailed) else str(exc.message))
    else:
        messages.success(request, _("提案已撤回。"))
    return redirect("deliberation:proposal_detail", pk=pk)


@login_required
@domain_errors
@require_POST
def comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = sel.proposal_get(actor=request.user, proposal_id=pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_add(actor=request.user, proposal=proposal, body=form.cleaned_data["body"])
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("评论已发表。"))
            return redirect(reverse("deliberation:proposal_detail", args=[pk]) + "#comments")
    return _detail(request, proposal, comment_form=form, status=400)


@login_required
@domain_errors
@require_POST
def comment_hide(request: HttpRequest, pk: int) -> HttpResponse:
    comment = sel.comment_get(actor=request.user, comment_id=pk)
    form = HideForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.comment_hide(actor=request.user, comment=comment, reason=reason)
    except ValidationFailed as exc:
        return _detail(request, comment.proposal, hide_errors={comment.pk: exc.first_message()}, status=400)
    messages.success(request, _("评论已隐藏。"))
    return redirect(reverse("deliberation:proposal_detail", args=[comment.proposal_id]) + f"#comment-{comment.pk}")


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def topic_list(request: HttpRequest) -> HttpResponse:
    communities = sel.manageable_communities(actor=request.user)
    form = TopicForm(request.POST or None, communities=communities) if communities.exists() else None
    if request.method == "POST":
        if form is None:
            raise NotFound()
        if form.is_valid():
            try:
                services.topic_create(actor=request.user, community=form.cleaned_data["community"],
                                      title=form.cleaned_data["title"], body=form.cleaned_data["body"])
            except ValidationFailed as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("议题已列入议程。"))
                return redirect("deliberation:topic_list")
    page, query = paginate(request, sel.topic_list(actor=request.user))
    return render(request, "deliberation/proposals_topics.html", {"page_obj": page, "query": query, "form": form})


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def rules_edit(request: HttpRequest, community_pk: int) -> HttpResponse:
    community = sel.managed_community_get(actor=request.user, community_id=community_pk)
    current = sel.community_rules(community=community)
    rules = current["rules"]
    form = RulesForm(request.POST or None, initial={"threshold_kind": rules.threshold_kind,
                                                    "threshold_count": rules.threshold_count,
                                                    "threshold_share": rules.threshold_share})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.rules_update(actor=request.user, community=community, threshold_kind=data["threshold_kind"],
                                  threshold_count=data["threshold_count"], threshold_share=data["threshold_share"])
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("议事规则已保存；已在征集中的提案保持原门槛。"))
            return redirect("deliberation:rules_edit", community_pk=community.pk)
    return render(request, "deliberation/proposals_rules.html", {
        "form": form, "community": community, "threshold_now": current["threshold_now"],
        "households": services.household_count(community), "share_kind": ThresholdKind.HOUSEHOLD_SHARE,
    })


@login_required
@domain_errors
def attachment_file(request: HttpRequest, pk: int) -> FileResponse:
    """Serve a proposal's or meeting's attachment to those who may see its record (never a public URL)."""
    attachment = sel.attachment_get(actor=request.user, attachment_id=pk)
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.mime_type,
                            as_attachment=not attachment.is_image, filename=attachment.name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns = [
    path("proposals/", proposal_list, name="proposal_list"),
    path("proposals/new/", proposal_create, name="proposal_create"),
    path("proposals/<int:pk>/", proposal_detail, name="proposal_detail"),
    path("proposals/<int:pk>/support/", proposal_support, name="proposal_support"),
    path("proposals/<int:pk>/withdraw/", proposal_withdraw, name="proposal_withdraw"),
    path("proposals/<int:pk>/comments/", comment_add, name="comment_add"),
    path("comments/<int:pk>/hide/", comment_hide, name="comment_hide"),
    path("topics/", topic_list, name="topic_list"),
    path("rules/<int:community_pk>/", rules_edit, name="rules_edit"),
    path("attachments/<int:pk>/", attachment_file, name="attachment_file"),
]
