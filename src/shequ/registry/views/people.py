"""People pages (人员): the filtered list, a person's page, reveal of one field, register and edit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequ.accounts.roles import Capability
from shequ.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shequ.core.scope import actor_can_at
from shequ.registry import selectors, services
from shequ.registry.choices import PlaceKind
from shequ.registry.forms import NEW_HOUSEHOLD_CHOSEN, PersonFilterForm, PersonForm
from shequ.registry.models import Person, Place
from shequ.registry.views.places import _breadcrumbs
from shequ.web.http import domain_errors

PAGE_SIZE = 50


@login_required
@require_GET
@domain_errors
def person_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    tags = selectors.caretag_list()
    compounds = list(selectors.place_list(actor=user, kind=PlaceKind.COMPOUND).only("id", "name", "path"))
    form = PersonFilterForm(request.GET or None, tags=tags, compounds=compounds)
    filters = selectors.PersonFilter()
    within: Place | None = None
    if form.is_valid():
        data = form.cleaned_data
        place_pk = data.get("compound") or data.get("within")
        within = selectors.place_get(actor=user, place_id=place_pk) if place_pk else None
        filters = selectors.PersonFilter(q=data["q"], tag=data["tag"], age_band=data["age_band"], within=within,
                                         residence_type=data["residence_type"], sex=data["sex"])
    queryset = selectors.person_list(actor=user, filters=filters).prefetch_related("tags")
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    people = list(page.object_list)
    addresses = selectors.place_addresses(p.place for p in people)
    vocabulary = selectors.caretag_by_digest()
    rows = [
        {"person": p, "age": p.age(), "address": addresses[p.place.pk],
         "tags": selectors.person_tags(p, vocabulary=vocabulary)}
        for p in people
    ]
    return render(request, "registry/person_list.html",
                  {"form": form, "page": page, "rows": rows, "within": within})


@login_required
@require_GET
@domain_errors
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    person = selectors.person_get(actor=user, person_id=pk)
    labels = {f.name: f.verbose_name for f in Person._meta.get_fields() if hasattr(f, "verbose_name")}
    facts = [{"label": labels.get(fact.field, fact.field), "source": fact.get_source_display(),
              "at": fact.supplied_at} for fact in selectors.person_facts(person)]
    can_reveal = actor_can_at(user, person.scope_path, Capability.PII_REVEAL)
    pii_fields = [
        {"field": "name", "label": _("姓名"), "masked": person.masked_name},
        {"field": "id_number", "label": _("身份证号"), "masked": person.masked_id_number},
        {"field": "phone", "label": _("联系电话"), "masked": person.masked_phone},
    ]
    context = {
        "person": person,
        "age": person.age(),
        "address": selectors.place_addresses([person.place])[person.place.pk],
        "breadcrumbs": _breadcrumbs(user, person.place),
        "tags": selectors.person_tags(person),
        "facts": facts,
        "pii_fields": pii_fields,
        "can_reveal": can_reveal,
        "can_edit": actor_can_at(user, person.scope_path, Capability.REGISTRY_EDIT),
    }
    return render(request, "registry/person_detail.html", context)


@never_cache
@login_required
@require_POST
@domain_errors
def person_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one field in clear for a stated reason (audited by the service); answers a page fragment."""
    person = selectors.person_get(actor=request.user, person_id=pk)
    field = request.POST.get("field", "")
    reason = request.POST.get("reason", "")
    masked = {"name": person.masked_name, "id_number": person.masked_id_number, "phone": person.masked_phone}
    context: dict[str, Any] = {"person": person, "f": {"field": field, "masked": masked.get(field, "")},
                               "can_reveal": True, "reason": reason}
    try:
        context["value"] = services.person_reveal(actor=request.user, person=person, field=field, reason=reason)
    except ValidationFailed as exc:
        context["error"] = next(iter(exc.errors.values()))[0] if exc.errors else str(exc.message)
        context["open"] = True
    response = render(request, "registry/person_pii_field.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _editable_place(user: Any, place: Place) -> None:
    if not actor_can_at(user, place.path, Capability.REGISTRY_EDIT):
        raise PermissionDenied()


def _households_at(user: Any, place: Place) -> list[Any]:
    if place.kind != PlaceKind.UNIT:
        return []
    return list(selectors.household_list(actor=user, within=place))


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def person_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    place_pk = request.GET.get("place") or request.POST.get("place")
    if not place_pk:
        raise NotFound()
    place = selectors.place_get(actor=user, place_id=place_pk)
    _editable_place(user, place)
    tags = selectors.caretag_list()
    form = PersonForm(request.POST or None, households=_households_at(user, place), tags=tags,
                      can_open_household=place.kind == PlaceKind.UNIT)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {
            "name": data["name"], "residence_type": data["residence_type"], "id_number": data["id_number"],
            "phone": data["phone"], "sex": data["sex"], "birth_date": data["birth_date"], "notes": data["notes"],
            "tags": data["tags"],
        }
        try:
            if data["household"] == NEW_HOUSEHOLD_CHOSEN:
                person = services.household_register(actor=user, unit=place, **fields)
            else:
                person = services.person_create(actor=user, place=place, household=data["household"],
                                                relation=data["relation"], **fields)
        except ValidationFailed as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("已登记人员 %(name)s。") % {"name": person.masked_name})
            return redirect("registry:person_detail", pk=person.pk)
    return render(request, "registry/person_form.html", {
        "form": form, "place": place, "person": None,
        "breadcrumbs": _breadcrumbs(user, place) + [{"place": place, "link": True}],
        "address": selectors.place_addresses([place])[place.pk],
    })


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    person = selectors.person_get(actor=user, person_id=pk)
    _editable_place(user, person.place)
    tags = selectors.caretag_list()
    current_tags = [t.slug for t in selectors.person_tags(person)]
    masked = {"name": person.masked_name, "id_number": person.masked_id_number, "phone": person.masked_phone,
              "birth_date": ""}
    initial = {"sex": person.sex, "residence_type": person.residence_type, "status": person.status,
               "household": person.household_id, "relation": person.relation, "notes": person.notes,
               "tags": current_tags, "version": person.version}
    form = PersonForm(request.POST or None, initial=initial, households=_households_at(user, person.place),
                      tags=tags, editing=True, masked=masked)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes: dict[str, Any] = {
            "sex": data["sex"] or person.sex, "residence_type": data["residence_type"],
            "status": data["status"] or person.status, "household": data["household"],
            "relation": data["relation"], "notes": data["notes"],
        }
        for secret in ("name", "id_number", "phone", "birth_date"):
            if data[secret]:  # blank = unchanged: the form never shows the value in force
                changes[secret] = data[secret]
        try:
            services.person_update(actor=user, person=person, version=data["version"], **changes)
            if sorted(data["tags"]) != sorted(current_tags):
                services.person_set_tags(actor=user, person=person, tags=data["tags"])
        except ValidationFailed as exc:
            form.apply_errors(exc)
        except Conflict as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("已保存修改。"))
            return redirect("registry:person_detail", pk=person.pk)
    return render(request, "registry/person_form.html", {
        "form": form, "place": person.place, "person": person, "age": person.age(),
        "breadcrumbs": _breadcrumbs(user, person.place) + [{"place": person.place, "link": True}],
        "address": selectors.place_addresses([person.place])[person.place.pk],
    })


urlpatterns = [
    path("people/", person_list, name="person_list"),
    path("people/new/", person_create, name="person_create"),
    path("people/<int:pk>/", person_detail, name="person_detail"),
    path("people/<int:pk>/reveal/", person_reveal, name="person_reveal"),
    path("people/<int:pk>/edit/", person_edit, name="person_edit"),
]
