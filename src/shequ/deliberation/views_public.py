"""Public pages (公示栏, no login): a community's notices, closed votes' results and meeting decisions.

Nothing personal is shown here: no voter, no supporter, no resident's name; staff who published are
not named either. Secret or open, a vote's public page shows only the frozen totals and how the result
was computed, never who chose what.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from shequ.deliberation import disclosure
from shequ.deliberation.models import Vote
from shequ.web.http import domain_errors


def _check_row(label: str, short: str, unit: str, total: Any, part: Any, yes: Any, quorum: dict[str, Any],
               approval: dict[str, Any]) -> dict[str, Any]:
    def explain(numerator: Any, denominator: Any, check: dict[str, Any]) -> dict[str, Any]:
        sign = "≥" if check.get("bound") == "at_least" else ">"
        return {"formula": f"{numerator} ÷ {denominator} = {check['share']['exact']}",
                "percent": check["share"]["percent"], "threshold": f"{sign} {check['threshold']}",
                "met": check["met"]}

    return {"label": label, "short": short, "unit": unit, "total": total, "participating": part, "yes": yes,
            "quorum": explain(part, total, quorum), "approval": explain(yes, part, approval)}


def result_display(vote: Vote) -> dict[str, Any] | None:
    """The frozen ``Vote.result`` as rows a page can show: totals, shares as exact fractions, thresholds.

    Only aggregates: a result never says who chose what.
    """
    result = vote.result
    if not result:
        return None
    rows: list[dict[str, Any]] = []
    options: list[dict[str, Any]] = []
    if result.get("method") == "civil_code_278":
        area, heads = result["area"], result["heads"]
        rows.append(_check_row(_("专有部分面积"), _("面积"), _("㎡"), area["total"]["display"],
                               area["participating"]["display"], area["yes"]["display"], result["quorum"]["area"],
                               result["approval"]["area"]))
        rows.append(_check_row(_("业主人数"), _("人数"), _("人"), heads["total"], heads["participating"], heads["yes"],
                               result["quorum"]["heads"], result["approval"]["heads"]))
        options = [{"label": _("同意"), "area": area["yes"]["display"], "heads": heads["yes"]},
                   {"label": _("反对"), "area": area["no"]["display"], "heads": heads["no"]},
                   {"label": _("弃权"), "area": area["abstain"]["display"], "heads": heads["abstain"]}]
    else:
        yes = sum(o["count"] for o in result.get("options", []) if o.get("meaning") == "yes")
        if not any(o.get("meaning") == "yes" for o in result.get("options", [])):
            yes = max((o["count"] for o in result.get("options", [])), default=0)
        rows.append(_check_row(_("投票人数"), _("人数"), _("人"), result["eligible"], result["participating"], yes,
                               result["quorum"], result["approval"]))
        labels = {o.pk: o.label for o in vote.options.all()}
        options = [{"label": o.get("label") or labels.get(o["option"], ""), "heads": o["count"],
                    "percent": o["share"]["percent"], "winner": o["option"] == result.get("winner")}
                   for o in result.get("options", [])]
    return {
        "owners": result.get("method") == "civil_code_278",
        "rows": rows,
        "options": options,
        "quorum_met": result["quorum"].get("met"),
        "approval_met": result["approval"]["met"],
        "carried": result["carried"],
        "units": result.get("units"),
        "split": result.get("heads", {}).get("split", 0),
    }


def _decisions(community: Any) -> list[Any]:
    try:
        from shequ.deliberation.deliberation_selectors import public_decisions
    except ImportError:  # the meetings module is not installed yet
        return []
    return list(public_decisions(community=community)[:30])


@require_GET
@domain_errors
def community(request: HttpRequest, path: str) -> HttpResponse:
    place = disclosure.public_community_get(path=path)
    board = disclosure.public_notices(community=place, include_archive=True)
    votes: list[Vote] = disclosure.public_votes(community=place)
    return render(request, "deliberation/public_community.html", {
        "community": place,
        "groups": board.current_by_category(),
        "current_count": len(board.current),
        "archive": board.archive,
        "votes": [(vote, result_display(vote)) for vote in votes],
        "decisions": _decisions(place),
    })


@require_GET
@domain_errors
def notice(request: HttpRequest, path: str, pk: int) -> HttpResponse:
    place = disclosure.public_community_get(path=path)
    shown = disclosure.public_notice_get(community=place, notice_id=pk)
    history = disclosure.notice_history(series=shown.series)
    return render(request, "deliberation/public_notice.html", {
        "community": place, "notice": history[-1], "shown": shown,
        "history": [(n, disclosure.notice_attachments(n)) for n in reversed(history)],
    })


@require_GET
@domain_errors
def notice_file(request: HttpRequest, path: str, pk: int, file_id: int) -> FileResponse:
    place = disclosure.public_community_get(path=path)
    attachment = disclosure.public_attachment_get(community=place, notice_id=pk, attachment_id=file_id)
    return FileResponse(attachment.file.open("rb"), content_type=attachment.mime_type,
                        filename=attachment.name, as_attachment=not attachment.is_image)


@require_GET
@domain_errors
def vote(request: HttpRequest, path: str, pk: int) -> HttpResponse:
    place = disclosure.public_community_get(path=path)
    found = disclosure.public_vote_get(community=place, vote_id=pk)
    return render(request, "deliberation/public_vote.html", {
        "community": place, "vote": found, "result": result_display(found),
    })


urlpatterns = [
    path("<str:path>/", community, name="community"),
    path("<str:path>/notices/<int:pk>/", notice, name="notice"),
    path("<str:path>/notices/<int:pk>/files/<int:file_id>/", notice_file, name="notice_file"),
    path("<str:path>/votes/<int:pk>/", vote, name="vote"),
]
