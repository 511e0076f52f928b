"""Pages of the import wizard (上传 → 设置列 → 检查结果 → 结果), past imports and fact conflicts.

Each view parses input, loads through a scoped selector (a job or conflict out of scope is a 404),
calls one service or queues one task (the check and the import run in the worker in production and
inline in the embedded default), and renders.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequ.core.errors import Conflict, PermissionDenied, ValidationFailed
from shequ.core.forms import apply_service_errors
from shequ.ledgers import conflicts as conflict_services
from shequ.ledgers import importer, tasks
from shequ.ledgers.choices import ImportStatus
from shequ.ledgers.forms_imports import ConflictForm, MappingForm, RunForm, UploadForm
from shequ.ledgers.seed import blank_template
from shequ.web.http import domain_errors

SHOWN_ERRORS = 100
STEPS = [("upload", gettext_lazy("上传")), ("map", gettext_lazy("设置列")), ("check", gettext_lazy("检查结果")),
         ("done", gettext_lazy("结果"))]


def _steps(current: str) -> list[dict[str, Any]]:
    keys = [k for k, _label in STEPS]
    return [{"key": k, "label": label, "current": k == current, "done": keys.index(k) < keys.index(current)}
            for k, label in STEPS]


def _task_outcome(request: HttpRequest, result: Any) -> bool:
    """Show a domain error a task returned (inline mode) and say whether there was none; in the worker
    the result is not ready yet and the page shows the job's state."""
    outcome = result.get() if result is not None else None
    if outcome and outcome.get("error"):
        messages.error(request, outcome["error"])
        return False
    return True


@login_required
@require_GET
@domain_errors
def import_list(request: HttpRequest) -> HttpResponse:
    jobs = importer.import_job_list(actor=request.user).order_by("-created_at", "-id")
    page = Paginator(jobs, 25).get_page(request.GET.get("page"))
    open_conflicts = conflict_services.conflict_list(actor=request.user).count()
    can_upload = bool(importer.import_communities(actor=request.user))
    return render(request, "ledgers/imports/list.html",
                  {"page": page, "open_conflicts": open_conflicts, "can_upload": can_upload})


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def import_new(request: HttpRequest) -> HttpResponse:
    communities = importer.import_communities(actor=request.user)
    if not communities:
        raise PermissionDenied()
    form = UploadForm(request.POST or None, request.FILES or None, communities=communities)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        try:
            job = importer.import_job_create(actor=request.user, community=data["community"], file=upload,
                                             filename=upload.name or "", source=data["source"])
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("ledgers:import_map", pk=job.pk)
    return render(request, "ledgers/imports/new.html", {"form": form, "steps": _steps("upload")})


@login_required
@require_GET
@domain_errors
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = importer.import_job_get(actor=request.user, job_id=pk)
    if job.status == ImportStatus.UPLOADED and not job.checked_at:
        return redirect("ledgers:import_map", pk=job.pk)
    if job.status == ImportStatus.CHECKED:
        return redirect("ledgers:import_check", pk=job.pk)
    errors = list(job.row_errors.all()[:SHOWN_ERRORS])
    return render(request, "ledgers/imports/detail.html",
                  {"job": job, "errors": errors, "steps": _steps("done"), "shown": SHOWN_ERRORS})


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def import_map(request: HttpRequest, pk: int) -> HttpResponse:
    job = importer.import_job_get(actor=request.user, job_id=pk)
    if job.status == ImportStatus.IMPORTED:
        return redirect("ledgers:import_detail", pk=job.pk)
    form = MappingForm(request.POST or None, headers=job.headers, mapping=job.mapping,
                       initial={"save_template_name": ""})
    if request.method == "POST" and form.is_valid():
        try:
            job = importer.import_job_map(actor=request.user, job=job, mapping=form.mapping(),
                                          save_template_name=form.cleaned_data["save_template_name"])
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        except Conflict as exc:
            messages.error(request, str(exc.message))
            return redirect("ledgers:import_detail", pk=job.pk)
        else:
            if not _task_outcome(request, tasks.import_check_task(job.pk, request.user.pk)):
                return redirect("ledgers:import_map", pk=job.pk)
            return redirect("ledgers:import_check", pk=job.pk)
    samples = importer.import_job_samples(actor=request.user, job=job)
    columns = [(letter, field, samples.get(i, [])) for i, (letter, field) in enumerate(form.column_fields())]
    return render(request, "ledgers/imports/map.html",
                  {"job": job, "form": form, "columns": columns, "steps": _steps("map")})


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def import_check(request: HttpRequest, pk: int) -> HttpResponse:
    job = importer.import_job_get(actor=request.user, job_id=pk)
    if request.method == "POST":  # check again (the file or the registry may have changed)
        _task_outcome(request, tasks.import_check_task(job.pk, request.user.pk))
        return redirect("ledgers:import_check", pk=job.pk)
    if job.status in (ImportStatus.IMPORTED, ImportStatus.REJECTED, ImportStatus.FAILED):
        return redirect("ledgers:import_detail", pk=job.pk)
    errors = list(job.row_errors.all()[:SHOWN_ERRORS])
    form = RunForm(initial={"mode": job.mode if job.error_rows == 0 else "good_rows", "version": job.version})
    return render(request, "ledgers/imports/check.html", {
        "job": job, "errors": errors, "form": form, "steps": _steps("check"), "shown": SHOWN_ERRORS,
        "pending": job.checked_at is None,
    })


@login_required
@require_POST
@domain_errors
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    job = importer.import_job_get(actor=request.user, job_id=pk)
    form = RunForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择导入方式。"))
        return redirect("ledgers:import_check", pk=job.pk)
    _task_outcome(request, tasks.import_run_task(job.pk, request.user.pk, form.cleaned_data["mode"],
                                                 form.cleaned_data["version"]))
    return redirect("ledgers:import_detail", pk=job.pk)


@never_cache
@login_required
@require_GET
@domain_errors
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    job = importer.import_job_get(actor=request.user, job_id=pk)
    try:
        data = importer.import_job_errors_export(actor=request.user, job=job)
    except ValidationFailed as exc:
        messages.error(request, exc.first_message())
        return redirect("ledgers:import_detail", pk=job.pk)
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = f"错误行-{job.filename.rsplit('.', 1)[0]}.xlsx"
    response["Content-Disposition"] = f"attachment; filename=\"errors-{job.pk}.xlsx\"; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
@domain_errors
def import_template(request: HttpRequest) -> HttpResponse:
    """An empty ledger whose columns map themselves: a worker can fill it in instead of inventing one."""
    if not importer.import_communities(actor=request.user):
        raise PermissionDenied()
    response = HttpResponse(blank_template(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = quote("人员台账模板.xlsx")
    response["Content-Disposition"] = f"attachment; filename=\"ledger-template.xlsx\"; filename*=UTF-8''{name}"
    return response


# --- Conflicts --------------------------------------------------------------------------------------------


@login_required
@require_GET
@domain_errors
def conflict_list(request: HttpRequest) -> HttpResponse:
    qs = conflict_services.conflict_list(actor=request.user)
    if (person := request.GET.get("person", "")).isdigit():  # from a person's page: only theirs
        qs = qs.filter(person_id=int(person))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = conflict_services.conflict_rows(list(page.object_list))
    groups: list[dict[str, Any]] = []
    for row in rows:
        if not groups or groups[-1]["person"].pk != row["person"].pk:
            groups.append({"person": row["person"], "rows": []})
        groups[-1]["rows"].append(row)
    return render(request, "ledgers/conflicts/list.html", {"page": page, "groups": groups})


@login_required
@require_POST
@domain_errors
def conflict_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    conflict = conflict_services.conflict_get(actor=request.user, conflict_id=pk)
    form = ConflictForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择保留现值或采用新值。"))
        return redirect("ledgers:conflict_list")
    keep = form.cleaned_data["decision"] == "keep"
    try:
        conflict_services.conflict_resolve(actor=request.user, conflict=conflict, keep_current=keep,
                                           note=form.cleaned_data["note"])
    except ValidationFailed as exc:
        messages.error(request, exc.first_message())
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已保留现值。") if keep else _("已采用新值。"))
    return redirect("ledgers:conflict_list")
