"""Every read of votes, scoped to the actor.

Who sees a vote:
- staff with ``registry.view`` over the vote's place (community or compound), drafts included;
- a resident, every vote that is not a draft held on their community or on their own compound
  (``User.resident_paths``): a resident of another compound gets ``NotFound``.

No selector pairs a voter with their option: ``own_ballots`` gives voters their own ballots,
``vote_turnout`` counts participation without options; options and totals appear only in the result
frozen at close.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from django.db.models import Q, QuerySet

from shequ.accounts.roles import Capability
from shequ.core.errors import NotFound
from shequ.core.scope import restrict, subtree_q
from shequ.deliberation import tally
from shequ.deliberation.choices import Electorate, VoteStatus
from shequ.deliberation.models import Ballot, Vote
from shequ.deliberation.votes import electorate_targets, snapshot_persons, snapshot_units
from shequ.registry.choices import PLACE_PATH_LENGTHS, PlaceKind
from shequ.registry.models import Place

VIEW = Capability.REGISTRY_VIEW
_VOTE_PLACE_LENGTHS = (PLACE_PATH_LENGTHS[PlaceKind.COMMUNITY], PLACE_PATH_LENGTHS[PlaceKind.COMPOUND])


def _resident_q(actor: Any) -> Q:
    """Non-draft votes held on the actor's community or compound as a resident."""
    paths = {p[:n] for p in actor.resident_paths() for n in _VOTE_PLACE_LENGTHS if len(p) >= n}
    if not paths:
        return Q(pk__in=[])
    return Q(scope_path__in=sorted(paths)) & ~Q(status=VoteStatus.DRAFT)


def _visible(actor: Any) -> QuerySet[Vote]:
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        return Vote.objects.none()
    staff = restrict(Vote.objects.all(), actor, capability=VIEW).values("pk")
    return Vote.objects.filter(Q(pk__in=staff) | _resident_q(actor))


def vote_list(
    *, actor: Any, place: Place | None = None, status: str | None = None, place_id: int | None = None
) -> QuerySet[Vote]:
    """Votes the actor may see, newest first; ``place``/``place_id``: held on that node or below it."""
    qs = _visible(actor).select_related("place", "topic").prefetch_related("options")
    if place is not None:
        qs = qs.filter(subtree_q(place.path))
    if place_id is not None:
        path = Place.objects.filter(pk=place_id).values_list("path", flat=True).first()
        qs = qs.filter(subtree_q(path)) if path else qs.none()
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-opens_at", "-id")


def vote_get(*, actor: Any, vote_id: Any, lean: bool = False) -> Vote:
    """One vote the actor may see; ``lean`` leaves the frozen electorate and result unloaded until used."""
    qs = _visible(actor).select_related("place", "topic")
    qs = qs.defer("electorate_snapshot", "result") if lean else qs.prefetch_related("options")
    try:
        return qs.get(pk=vote_id)
    except (Vote.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def own_ballots(*, actor: Any, vote: Vote) -> list[Ballot]:
    """The ballots that count for the actor: their units' (owners' votes) or their own (residents')."""
    person_id = getattr(actor, "person_id", None)
    if person_id is None or vote.electorate_snapshot is None:
        return []
    targets = electorate_targets(vote, person_id=person_id)
    if not targets:
        return []
    qs = Ballot.objects.filter(vote=vote).select_related("option", "unit")
    if vote.electorate == Electorate.OWNERS:
        qs = qs.filter(unit_id__in=targets)
    else:
        qs = qs.filter(unit__isnull=True, person_id=person_id)
    return list(qs.order_by("unit__path", "id"))


def vote_turnout(*, vote: Vote) -> dict[str, Any]:
    """Participation so far, without options (safe while a secret vote is open)."""
    if vote.electorate == Electorate.OWNERS:
        units = snapshot_units(vote)
        cast = set(Ballot.objects.filter(vote=vote, unit__isnull=False).values_list("unit_id", flat=True))
        key_of = {u["unit"]: u["owner_key"] for u in units}
        area_of = {u["unit"]: tally.parse_fraction(u["area"]) for u in units}
        total_area = sum(area_of.values(), Fraction(0))
        part_area = sum((area_of[u] for u in cast if u in area_of), Fraction(0))
        heads = set(key_of.values())
        part_heads = {key_of[u] for u in cast if u in key_of}
        return {
            "electorate": vote.electorate,
            "units": {"total": len(units), "participating": len([u for u in cast if u in key_of])},
            "area": {"total": tally.amount(total_area), "participating": tally.amount(part_area),
                     "share": tally.share_out(tally.share(part_area, total_area))},
            "heads": {"total": len(heads), "participating": len(part_heads),
                      "share": tally.share_out(tally.share(len(part_heads), len(heads)))},
        }
    persons = set(snapshot_persons(vote))
    cast_persons = set(Ballot.objects.filter(vote=vote, unit__isnull=True).values_list("person_id", flat=True))
    participating = len(cast_persons & persons)
    return {
        "electorate": vote.electorate,
        "eligible": len(persons),
        "participating": participating,
        "share": tally.share_out(tally.share(participating, len(persons))),
    }
