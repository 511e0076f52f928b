"""Record-linkage pages (人员比对): the review queue, starting a run, decisions, merges and their undo.

Every pair is shown masked (QUALITY §5): name 张*, birth year only, address to the building, whether an
ID number is on file (yes/no), which business lines supplied the record, and which comparisons agreed.
"""

from __future__ import annotations

import math
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequ.core import pii
from shequ.core.errors import Conflict, PermissionDenied, ValidationFailed
from shequ.core.forms import paginate
from shequ.ledgers import linkage, merges
from shequ.ledgers.forms_linkage import DecideForm, RunForm
from shequ.ledgers.linkage import COMPARISONS, LEVEL_LABELS
from shequ.ledgers.models import LinkCandidate
from shequ.registry.choices import BusinessLine
from shequ.registry.models import Person, PersonFact
from shequ.registry.selectors import place_addresses
from shequ.web.http import domain_errors

QUEUE_PAGE = 10


def _sources(people: list[Person]) -> dict[int, list[str]]:
    labels = dict(BusinessLine.choices)
    found: dict[int, list[str]] = {p.pk: [] for p in people}
    rows = PersonFact.objects.filter(person__in=people).values_list("person_id", "source").distinct()
    for person_id, source in rows.order_by("person_id", "source"):
        found[person_id].append(str(labels.get(source, source)))
    return found


def _side(person: Person, addresses: dict[int, str], sources: dict[int, list[str]]) -> dict[str, Any]:
    return {
        "pk": person.pk,
        "name": person.masked_name,
        "sex": person.get_sex_display() or "—",
        "birth_year": person.birth_date.year if person.birth_date else None,
        "address": addresses.get(person.place_id, ""),
        "has_id": bool(person.id_number_digest),
        "sources": sources.get(person.pk, []),
    }


def _evidence(candidate: LinkCandidate) -> tuple[list[str], list[str]]:
    """Labels of the comparisons that agreed and of those that did not (missing values are left out)."""
    agreed, differed = [], []
    for comparison in COMPARISONS:
        key = candidate.details.get(comparison.name, "null")
        if key == "null":
            continue
        label = str(LEVEL_LABELS.get((comparison.name, key), key))
        (differed if key == "else" else agreed).append(label)
    return agreed, differed


def queue_cards(candidates: list[LinkCandidate]) -> list[dict[str, Any]]:
    people = [p for c in candidates for p in (c.left, c.right)]
    addresses = place_addresses({p.place for p in people})
    sources = _sources(people)
    cards = []
    for candidate in candidates:
        agreed, differed = _evidence(candidate)
        cards.append({
            "candidate": candidate,
            # rounded down: a pair below the automatic threshold never shows as 100 %
            "percent": f"{math.floor(candidate.probability * 1000) / 10:.1f}",
            "sides": [_side(candidate.left, addresses, sources), _side(candidate.right, addresses, sources)],
            "agreed": agreed,
            "differed": differed,
        })
    return cards


@login_required
@domain_errors
def link_queue(request: HttpRequest) -> HttpResponse:
    places = linkage.linkable_places(actor=request.user)
    if not places.exists() and not linkage.candidate_list(actor=request.user).exists():
        raise PermissionDenied()
    page, query = paginate(request, linkage.candidate_list(actor=request.user), per_page=QUEUE_PAGE)
    return render(request, "ledgers/linkage/queue.html", {
        "page_obj": page, "query": query, "cards": queue_cards(list(page.object_list)),
        "run_form": RunForm(places=places), "runs": list(linkage.run_list(actor=request.user)[:5]),
    })


@login_required
@domain_errors
@require_POST
def link_run(request: HttpRequest) -> HttpResponse:
    form = RunForm(request.POST, places=linkage.linkable_places(actor=request.user))
    if not form.is_valid():
        messages.error(request, _("请选择要比对的社区。"))
        return redirect("ledgers:link_queue")
    place = linkage.linkable_place_get(actor=request.user, place_id=form.cleaned_data["place"].pk)
    run = linkage.link_run(actor=request.user, place=place)
    if run.failure:
        messages.error(request, run.failure)
    else:
        messages.success(request, _("%(place)s比对完成：%(records)s人，比对%(pairs)s对，自动合并%(auto)s对，"
                                    "%(queued)s对待人工核对。") % {
            "place": place.name, "records": run.records, "pairs": run.pairs_compared, "auto": run.auto_merged,
            "queued": run.queued})
    return redirect("ledgers:link_queue")


@login_required
@domain_errors
@require_POST
def link_decide(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = linkage.candidate_get(actor=request.user, candidate_id=pk)
    form = DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("提交的数据有误，请刷新后重试。"))
        return redirect("ledgers:link_queue")
    try:
        decided = merges.link_decide(actor=request.user, candidate=candidate, same_person=form.same_person,
                                     version=form.cleaned_data["version"])
    except (Conflict, ValidationFailed) as exc:
        messages.error(request, str(exc.message))
    else:
        if form.same_person:
            messages.success(request, _("已合并为一条记录（%(name)s）。如有误，可在“合并记录”中撤销。") % {
                "name": decided.left.masked_name})
        else:
            messages.success(request, _("已标记为不是同一人，今后不再提示这两条记录。"))
    return redirect("ledgers:link_queue")


@login_required
@domain_errors
def merge_list(request: HttpRequest) -> HttpResponse:
    page, query = paginate(request, merges.merge_list(actor=request.user))
    return render(request, "ledgers/linkage/merges.html", {"page_obj": page, "query": query,
                                                            "mask_name": pii.mask_name})


@login_required
@domain_errors
@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    merge = merges.merge_get(actor=request.user, merge_id=pk)
    try:
        merges.person_unmerge(actor=request.user, merge=merge)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已撤销合并，两条记录恢复为合并前的样子。"))
    return redirect("ledgers:merge_list")
