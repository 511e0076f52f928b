"""Votes (表决): every write — create, open, cast, paper entry, close — and the recount.

Two electorates:
- residents or representatives of a community: one person, one ballot (``Ballot.unit`` empty);
- owners of a compound (业主表决, Civil Code art. 278): one ballot per unit, weighed by the unit's
  exclusive floor area and counted by owner key (see ``tally.owners_result``).

Life cycle: draft → open (``vote_open`` freezes the electorate in ``electorate_snapshot``) → closed
(``vote_close`` freezes ``result``). A ballot can be changed until the vote closes: the row is updated,
never duplicated (the database holds one row per unit, or per person). ``ballot_cast`` and
``vote_close`` lock the vote row and re-check status and time inside the lock, so a ballot arriving
while the vote closes is either counted or refused, never half-written.

Secret ballots: no selector pairs a voter with their option (``own_ballots`` shows voters their own);
the audit row of a cast names the voter and the units but not the option.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from shequ.accounts.models import Membership, User
from shequ.accounts.roles import Capability, Role
from shequ.core.audit import audit_record
from shequ.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shequ.core.models import AuditAction
from shequ.core.notifications import notify
from shequ.core.scope import subtree_q
from shequ.core.services import bump_version, full_clean, require_capability
from shequ.deliberation import tally
from shequ.deliberation.choices import BallotChannel, Electorate, Matter, OptionMeaning, VoteStatus
from shequ.deliberation.models import Ballot, Topic, Vote, VoteOption
from shequ.registry.choices import PlaceKind
from shequ.registry.models import Organisation, Person, Place
from shequ.registry.ownership import compound_electorate

MANAGE = Capability.DELIBERATION_MANAGE

VOTE_TITLE_REQUIRED = _("请填写表决事项。")
VOTE_ELECTORATE_INVALID = _("投票人类型无效。")
VOTE_TIMES_ORDER = _("截止时间必须晚于开始时间。")
VOTE_OWNERS_PLACE = _("业主表决只能在小区范围内发起。")
VOTE_RESIDENTS_PLACE = _("居民表决只能在社区（居村）范围内发起。")
VOTE_MATTER_REQUIRED = _("业主表决须选择事项类别：一般事项或重大事项。")
VOTE_MATTER_OWNERS_ONLY = _("事项类别只适用于业主表决。")
VOTE_OWNERS_FIXED = _("业主表决的选项固定为“同意、反对、弃权”，表决比例由《民法典》第二百七十八条规定，不能自定。")
VOTE_OPTIONS_MIN = _("至少需要两个不同的选项。")
VOTE_OPTION_MEANING = _("选项含义无效：{meaning}。")
VOTE_FRACTION_INVALID = _("比例应在0到1之间，如 1/2 或 2/3。")
VOTE_TOPIC_PLACE = _("议题不属于该社区。")
VOTE_REPRESENTATIVES_REQUIRED = _("居民代表表决须指定参加表决的代表。")
VOTE_PEOPLE_OUTSIDE = _("代表“{name}”不是本社区居民。")
VOTE_NOT_DRAFT = _("只有草稿状态的表决可以开始。")
VOTE_ALREADY_ENDED = _("截止时间已过，不能再开始该表决。")
VOTE_UNITS_WITHOUT_AREA = _(
    "以下房屋没有登记专有部分面积，无法按面积计票：{units}。请先补录面积（不动产登记簿、测绘或合同面积）。"
)
VOTE_UNITS_WITHOUT_OWNER = _("以下房屋没有登记现业主：{units}。开发建设单位未售出的房屋请登记在开发建设单位名下。")
VOTE_NO_UNITS = _("该小区没有登记房屋，无法发起业主表决。")
VOTE_NO_ELECTORATE = _("没有符合条件的投票人（已实名认证的本社区居民）。")
VOTE_NOT_OPEN = _("该表决不在投票中。")
VOTE_NOT_STARTED = _("表决尚未开始，请在开始时间后投票。")
VOTE_ENDED = _("表决已截止，不能再投票。")
VOTE_OPTION_UNKNOWN = _("该选项不属于本次表决。")
BALLOT_NOT_VERIFIED = _("只有已实名认证的居民可以投票。")
BALLOT_NOT_IN_ELECTORATE = _("您不在本次表决的投票人名册中。")
PAPER_REASON_REQUIRED = _("录入纸质票须填写事由（至少4个字）。")
PAPER_VOTER_REQUIRED = _("请指定纸质票的投票人：业主表决指定房屋、业主或单位，居民表决指定居民。")
PAPER_VOTER_NOT_IN_ELECTORATE = _("该投票人不在本次表决的投票人名册中。")
VOTE_NOT_CLOSABLE = _("只有投票中的表决可以结束。")

FIXED_OWNER_OPTIONS = (
    (_("同意"), OptionMeaning.YES), (_("反对"), OptionMeaning.NO), (_("弃权"), OptionMeaning.ABSTAIN),
)
MIN_REASON_LENGTH = 4


# --- Helpers -----------------------------------------------------------------------------------------


def _fraction(value: Any, field: str) -> Fraction:
    try:
        if isinstance(value, (tuple, list)):
            result = Fraction(int(value[0]), int(value[1]))
        else:
            result = tally.parse_fraction(value)
    except (ValueError, ZeroDivisionError, TypeError, IndexError) as exc:
        raise ValidationFailed({field: VOTE_FRACTION_INVALID}) from exc
    if not 0 < result <= 1:
        raise ValidationFailed({field: VOTE_FRACTION_INVALID})
    return result


def _option_specs(options: Sequence[Any] | None) -> list[tuple[str, str]]:
    if options is None:
        return [(str(label), str(meaning)) for label, meaning in FIXED_OWNER_OPTIONS]
    specs: list[tuple[str, str]] = []
    for item in options:
        label, meaning = (item, OptionMeaning.CHOICE) if isinstance(item, str) else (item[0], item[1])
        label = str(label).strip()
        if meaning not in OptionMeaning.values:
            raise ValidationFailed({"options": str(VOTE_OPTION_MEANING).format(meaning=meaning)})
        if label and label not in [s[0] for s in specs]:
            specs.append((label, str(meaning)))
    if len(specs) < 2:
        raise ValidationFailed({"options": VOTE_OPTIONS_MIN})
    return specs


def vote_link(vote: Vote) -> str:
    try:
        return reverse("deliberation:vote_detail", args=[vote.pk])
    except NoReverseMatch:
        return ""


def _lock(vote: Vote) -> Vote:
    """The vote row, locked until the transaction ends (the frozen JSON is loaded only when used)."""
    return Vote.objects.select_for_update().defer("electorate_snapshot", "result").get(pk=vote.pk)


def _require_accepting(vote: Vote, now: dt.datetime) -> None:
    """Inside the lock: the vote takes ballots now (open, started, not past its closing time)."""
    if vote.status != VoteStatus.OPEN:
        raise Conflict(VOTE_NOT_OPEN, code="vote_not_open")
    if now < vote.opens_at:
        raise Conflict(VOTE_NOT_STARTED, code="vote_not_started")
    if now >= vote.closes_at:
        raise Conflict(VOTE_ENDED, code="vote_ended")


def _option_of(vote: Vote, option: VoteOption | int) -> VoteOption:
    option_id = option.pk if isinstance(option, VoteOption) else option
    try:
        return VoteOption.objects.get(vote=vote, pk=option_id)
    except (VoteOption.DoesNotExist, ValueError, TypeError) as exc:
        raise ValidationFailed({"option_id": VOTE_OPTION_UNKNOWN}) from exc


def resident_can_see(actor: Any, vote: Vote) -> bool:
    """A resident takes part in votes of their community and of their own compound (not drafts)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or vote.status == VoteStatus.DRAFT:
        return False
    return any(path.startswith(vote.scope_path) for path in actor.resident_paths())


def snapshot_units(vote: Vote) -> list[dict[str, Any]]:
    return list((vote.electorate_snapshot or {}).get("units", []))


def snapshot_persons(vote: Vote) -> list[int]:
    return list((vote.electorate_snapshot or {}).get("persons", []))


class _ElectorateIndex:
    """Lookups over a frozen electorate: whose ballot covers which units (built once per open vote)."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.units_of_person: dict[int, list[int]] = defaultdict(list)
        self.units_of_organisation: dict[int, list[int]] = defaultdict(list)
        self.units_of_key: dict[str, list[int]] = defaultdict(list)
        self.key_of: dict[int, str] = {}
        for u in snapshot.get("units", []):
            self.key_of[u["unit"]] = u["owner_key"]
            self.units_of_key[u["owner_key"]].append(u["unit"])
            for p in u.get("persons", []):
                self.units_of_person[p].append(u["unit"])
            for o in u.get("organisations", []):
                self.units_of_organisation[o].append(u["unit"])
        self.persons = frozenset(snapshot.get("persons", []))


# The electorate of an open vote never changes (it is frozen by ``vote_open``; closing bumps the
# version), so each process keeps a small index of it instead of parsing the snapshot — about 1 MB
# of JSON for a compound of 5,000 units — on every ballot.
_INDEX_CACHE: OrderedDict[tuple[int, str, int], _ElectorateIndex] = OrderedDict()
_INDEX_CACHE_SIZE = 32
_INDEX_LOCK = threading.Lock()


def _electorate_index(vote: Vote) -> _ElectorateIndex:
    if vote.status != VoteStatus.OPEN:
        return _ElectorateIndex(vote.electorate_snapshot or {})
    key = (vote.pk, vote.created_at.isoformat(), vote.version)
    with _INDEX_LOCK:
        index = _INDEX_CACHE.get(key)
        if index is not None:
            _INDEX_CACHE.move_to_end(key)
            return index
    index = _ElectorateIndex(vote.electorate_snapshot or {})
    with _INDEX_LOCK:
        _INDEX_CACHE[key] = index
        while len(_INDEX_CACHE) > _INDEX_CACHE_SIZE:
            _INDEX_CACHE.popitem(last=False)
    return index


def electorate_targets(vote: Vote, *, person_id: int | None = None, organisation_id: int | None = None,
                       unit_id: int | None = None) -> list[int | None]:
    """What one voter's ballot covers in the frozen electorate: unit ids (owners) or ``[None]`` (residents).

    Owners: a person's ballot covers every unit they own or co-own; an organisation's every unit it
    holds; a unit named on a paper ballot brings every unit of the same owner key, so the units of one
    owner always carry one option. Empty when the voter is not in the electorate.
    """
    index = _electorate_index(vote)
    if vote.electorate == Electorate.OWNERS:
        if unit_id is not None:
            key = index.key_of.get(unit_id)
            return list(index.units_of_key[key]) if key is not None else []
        if person_id is not None:
            return list(index.units_of_person.get(person_id, []))
        if organisation_id is not None:
            return list(index.units_of_organisation.get(organisation_id, []))
        return []
    return [None] if person_id is not None and person_id in index.persons else []


def _electorate_users(vote: Vote) -> list[User]:
    snapshot = vote.electorate_snapshot or {}
    if vote.electorate == Electorate.OWNERS:
        person_ids = {p for u in snapshot.get("units", []) for p in u.get("persons", [])}
    else:
        person_ids = set(snapshot.get("persons", []))
    return list(User.objects.filter(person_id__in=person_ids, is_active=True))


def _verified_residents(community: Place) -> list[int]:
    memberships = Membership.objects.filter(
        subtree_q(community.path, field="place__path"), role=Role.RESIDENT, active=True,
        user__is_active=True, user__person__isnull=False,
    )
    return sorted(set(memberships.values_list("user__person_id", flat=True)))


# --- Create and open ----------------------------------------------------------------------------------


@transaction.atomic
def vote_create(
    *,
    actor: Any,
    place: Place,
    title: str,
    electorate: str,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    matter: str = "",
    options: Sequence[Any] | None = None,
    secret: bool = False,
    description: str = "",
    topic: Topic | None = None,
    quorum: Any = None,
    majority: Any = None,
    majority_strict: bool = True,
    people: Iterable[Person] = (),
) -> Vote:
    """Create a draft vote.

    Owners' votes (``electorate=owners``) are held on a compound, need ``matter`` (ordinary or major)
    and get the fixed options 同意/反对/弃权; their thresholds come from art. 278, not from arguments.
    Residents' and representatives' votes are held on a community with ``options`` (labels, or
    ``(label, meaning)`` pairs; default 同意/反对/弃权), a ``quorum`` (default 1/2, "以上") and a
    ``majority`` (default 1/2, strictly more with ``majority_strict``). Representatives' votes name
    the representatives in ``people``.
    """
    require_capability(actor, place.path, MANAGE)
    errors: dict[str, Any] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = VOTE_TITLE_REQUIRED
    if electorate not in Electorate.values:
        errors["electorate"] = VOTE_ELECTORATE_INVALID
    if opens_at and closes_at and closes_at <= opens_at:
        errors["closes_at"] = VOTE_TIMES_ORDER
    if errors:
        raise ValidationFailed(errors)
    draft_snapshot = None
    if electorate == Electorate.OWNERS:
        if place.kind != PlaceKind.COMPOUND:
            raise ValidationFailed({"place": VOTE_OWNERS_PLACE})
        if matter not in Matter.values:
            raise ValidationFailed({"matter": VOTE_MATTER_REQUIRED})
        if options is not None or quorum is not None or majority is not None:
            raise ValidationFailed({"options": VOTE_OWNERS_FIXED})
        specs = _option_specs(None)
        quorum_f = tally.OWNERS_QUORUM
        majority_f = tally.OWNERS_MAJOR_MAJORITY if matter == Matter.MAJOR else tally.OWNERS_ORDINARY_MAJORITY
        majority_strict = matter != Matter.MAJOR
    else:
        if place.kind != PlaceKind.COMMUNITY:
            raise ValidationFailed({"place": VOTE_RESIDENTS_PLACE})
        if matter:
            raise ValidationFailed({"matter": VOTE_MATTER_OWNERS_ONLY})
        specs = _option_specs(options)
        quorum_f = _fraction(quorum if quorum is not None else Fraction(1, 2), "quorum")
        majority_f = _fraction(majority if majority is not None else Fraction(1, 2), "majority")
        if electorate == Electorate.REPRESENTATIVES:
            chosen = list(people)
            if not chosen:
                raise ValidationFailed({"people": VOTE_REPRESENTATIVES_REQUIRED})
            for person in chosen:
                if not person.scope_path.startswith(place.path):
                    raise ValidationFailed({"people": str(VOTE_PEOPLE_OUTSIDE).format(name=person.masked_name)})
            draft_snapshot = {"kind": str(electorate), "persons": sorted({p.pk for p in chosen}), "frozen": False}
    if topic is not None and not place.path.startswith(topic.scope_path):
        raise ValidationFailed({"topic": VOTE_TOPIC_PLACE})
    vote = Vote(
        place=place, topic=topic, title=title, description=description or "", electorate=electorate,
        matter=matter or "", secret=bool(secret), opens_at=opens_at, closes_at=closes_at,
        quorum_numerator=quorum_f.numerator, quorum_denominator=quorum_f.denominator,
        majority_numerator=majority_f.numerator, majority_denominator=majority_f.denominator,
        majority_strict=bool(majority_strict), created_by=actor if getattr(actor, "is_authenticated", False) else None,
        electorate_snapshot=draft_snapshot,
    )
    vote.set_scope(place.path)
    full_clean(vote, exclude=["electorate_snapshot", "result"])
    vote.save()
    VoteOption.objects.bulk_create(
        [VoteOption(vote=vote, label=label, meaning=meaning, position=i) for i, (label, meaning) in enumerate(specs)]
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=vote,
                 changes={"electorate": str(electorate), "matter": str(matter or ""), "secret": bool(secret),
                          "options": [label for label, _m in specs]})
    return vote


def _owners_snapshot(compound: Place) -> dict[str, Any]:
    electorate = compound_electorate(compound=compound)
    if not electorate.units:
        raise ValidationFailed({"__all__": VOTE_NO_UNITS})
    problems: dict[str, list[str]] = {}
    if electorate.missing_area:
        names = "、".join(u.name for u in electorate.missing_area)
        problems.setdefault("__all__", []).append(str(VOTE_UNITS_WITHOUT_AREA).format(units=names))
    if electorate.missing_owner:
        names = "、".join(u.name for u in electorate.missing_owner)
        problems.setdefault("__all__", []).append(str(VOTE_UNITS_WITHOUT_OWNER).format(units=names))
    if problems:
        raise ValidationFailed(problems, code="electorate_incomplete")
    units = [
        {"unit": u.unit_id, "name": u.name, "area": str(u.area), "area_source": u.area_source,
         "owner_key": u.owner_key, "persons": u.person_ids, "organisations": u.organisation_ids}
        for u in electorate.units
    ]
    total_area = sum((Fraction(u["area"]) for u in units), Fraction(0))
    return {
        "kind": Electorate.OWNERS.value,
        "units": units,
        "total_area": tally.amount(total_area),
        "total_heads": len({u["owner_key"] for u in units}),
        "total_units": len(units),
    }


@transaction.atomic
def vote_open(*, actor: Any, vote: Vote) -> Vote:
    """Open a draft vote: freeze who may vote and with what weight, and tell them."""
    require_capability(actor, vote.scope_path, MANAGE)
    locked = _lock(vote)
    if locked.status != VoteStatus.DRAFT:
        raise Conflict(VOTE_NOT_DRAFT, code="vote_not_draft")
    now = timezone.now()
    if now >= locked.closes_at:
        raise ValidationFailed({"closes_at": VOTE_ALREADY_ENDED})
    if locked.electorate == Electorate.OWNERS:
        snapshot = _owners_snapshot(locked.place)
    elif locked.electorate == Electorate.REPRESENTATIVES:
        persons = sorted(set((locked.electorate_snapshot or {}).get("persons", [])))
        snapshot = {"kind": locked.electorate, "persons": persons, "eligible_count": len(persons)}
    else:
        persons = _verified_residents(locked.place)
        snapshot = {"kind": locked.electorate, "persons": persons, "eligible_count": len(persons)}
    if locked.electorate != Electorate.OWNERS and not snapshot["persons"]:
        raise ValidationFailed({"__all__": VOTE_NO_ELECTORATE})
    snapshot["frozen_at"] = now.isoformat()
    locked.electorate_snapshot = snapshot
    locked.status = VoteStatus.OPEN
    bump_version(locked)
    locked.save(update_fields=["electorate_snapshot", "status", "version", "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked,
                 changes={"status": {"old": VoteStatus.DRAFT, "new": VoteStatus.OPEN},
                          "electorate": {k: v for k, v in snapshot.items() if k in
                                         ("total_area", "total_heads", "total_units", "eligible_count")}})
    notify(users=_electorate_users(locked), title=gettext("表决开始：%(title)s") % {"title": locked.title},
           body=gettext("投票截止时间：%(closes)s") % {"closes": timezone.localtime(locked.closes_at)
                                                       .strftime("%Y-%m-%d %H:%M")},
           link=vote_link(locked))
    _refresh(vote, locked)
    return locked


def _refresh(target: Vote, source: Vote) -> None:
    for name in ("status", "electorate_snapshot", "result", "closed_at", "version"):
        setattr(target, name, getattr(source, name))


# --- Ballots ------------------------------------------------------------------------------------------


def _write_ballots(
    vote: Vote,
    option: VoteOption,
    targets: list[int | None],
    *,
    cast_by: Any,
    person_id: int | None,
    organisation_id: int | None,
    channel: str,
) -> tuple[list[Ballot], int]:
    """Create or update one row per target (unit, or the person when ``None``); returns (rows, new)."""
    created = 0
    rows: list[Ballot] = []
    owners = vote.electorate == Electorate.OWNERS
    existing_qs = (Ballot.objects.filter(vote=vote, unit_id__in=targets) if owners
                   else Ballot.objects.filter(vote=vote, unit__isnull=True, person_id=person_id))
    existing = {(b.unit_id if owners else None): b for b in existing_qs}
    user = cast_by if getattr(cast_by, "is_authenticated", False) else None
    for target in targets:
        ballot = existing.get(target)
        if ballot is None:
            try:
                with transaction.atomic():
                    ballot = Ballot.objects.create(vote=vote, option=option, unit_id=target, person_id=person_id,
                                                   organisation_id=organisation_id, cast_by=user, channel=channel)
                created += 1
                rows.append(ballot)
                continue
            except IntegrityError:
                # Another request of the same voter got there first: take its row and update it.
                lookup = {"unit_id": target} if owners else {"unit__isnull": True, "person_id": person_id}
                ballot = Ballot.objects.select_for_update().get(vote=vote, **lookup)
        if ballot.option_id != option.pk:
            ballot.changes += 1
        ballot.option = option
        ballot.person_id = person_id
        ballot.organisation_id = organisation_id
        ballot.cast_by = user
        ballot.channel = channel
        ballot.save(update_fields=["option", "person", "organisation", "cast_by", "channel", "changes",
                                   "updated_at"])
        rows.append(ballot)
    return rows, created


def _audit_ballots(actor: Any, vote: Vote, option: VoteOption, rows: list[Ballot], created: int, *,
                   channel: str, reason: str = "") -> None:
    changes: dict[str, Any] = {"units": [b.unit_id for b in rows if b.unit_id], "channel": channel,
                               "new": created}
    if not vote.secret:
        changes["option"] = option.label
    audit_record(actor=actor, action=AuditAction.CREATE if created else AuditAction.UPDATE, obj=vote,
                 field="ballot", reason=reason, changes=changes)


def ballot_cast(*, actor: Any, vote: Vote, option: VoteOption | int) -> list[Ballot]:
    """Cast (or change) the actor's ballot; owners' ballots cover every unit the voter owns or co-owns.

    Refused with ``NotFound`` when the vote is not the actor's to see (another compound or community);
    with ``PermissionDenied`` when the actor is not verified or not in the frozen electorate; with
    ``Conflict`` when the vote is not open, not started or past its closing time (checked inside the
    vote row's lock, so a vote closing at the same time either counts the ballot or refuses it).
    """
    if not resident_can_see(actor, vote):
        raise NotFound()
    if not actor.is_verified_resident():
        raise PermissionDenied(BALLOT_NOT_VERIFIED, code="not_verified")
    with transaction.atomic():
        locked = _lock(vote)
        _require_accepting(locked, timezone.now())
        chosen = _option_of(locked, option)
        targets = electorate_targets(locked, person_id=actor.person_id)
        if not targets:
            raise PermissionDenied(BALLOT_NOT_IN_ELECTORATE, code="not_in_electorate")
        rows, created = _write_ballots(locked, chosen, targets, cast_by=actor, person_id=actor.person_id,
                                       organisation_id=None, channel=BallotChannel.ONLINE)
        _audit_ballots(actor, locked, chosen, rows, created, channel=BallotChannel.ONLINE)
    return rows


def ballot_enter_paper(
    *,
    actor: Any,
    vote: Vote,
    option: VoteOption | int,
    unit: Place | None = None,
    person: Person | None = None,
    organisation: Organisation | None = None,
    reason: str,
) -> Ballot:
    """Staff enter a paper ballot (纸质票录入), with a reason; audited.

    Owners' votes: name the unit (its owner's every unit is covered), the owner person or the owner
    organisation (the developer's units together). Residents' votes: name the person. The same time
    rules as online ballots apply.
    """
    require_capability(actor, vote.scope_path, MANAGE)
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationFailed({"reason": PAPER_REASON_REQUIRED})
    if unit is None and person is None and organisation is None:
        raise ValidationFailed({"__all__": PAPER_VOTER_REQUIRED})
    with transaction.atomic():
        locked = _lock(vote)
        _require_accepting(locked, timezone.now())
        chosen = _option_of(locked, option)
        if locked.electorate == Electorate.OWNERS:
            targets = electorate_targets(
                locked, unit_id=unit.pk if unit is not None else None,
                person_id=person.pk if person is not None and unit is None else None,
                organisation_id=organisation.pk if organisation is not None and unit is None else None,
            )
        else:
            targets = electorate_targets(locked, person_id=person.pk if person is not None else None)
        if not targets:
            raise ValidationFailed({"__all__": PAPER_VOTER_NOT_IN_ELECTORATE})
        rows, created = _write_ballots(
            locked, chosen, targets, cast_by=actor, person_id=person.pk if person is not None else None,
            organisation_id=organisation.pk if organisation is not None else None, channel=BallotChannel.PAPER,
        )
        _audit_ballots(actor, locked, chosen, rows, created, channel=BallotChannel.PAPER, reason=reason)
    if unit is not None:
        return next(b for b in rows if b.unit_id == unit.pk)
    return rows[0]


# --- Close and count ----------------------------------------------------------------------------------


def vote_recount(*, vote: Vote) -> dict[str, Any]:
    """The result recomputed from the stored ballots and the frozen electorate (pure of the registry)."""
    snapshot = vote.electorate_snapshot or {}
    if vote.electorate == Electorate.OWNERS:
        ballots = Ballot.objects.filter(vote=vote, unit__isnull=False).values_list("unit_id", "option__meaning")
        return tally.owners_result(units=snapshot.get("units", []), ballots=list(ballots), matter=vote.matter)
    persons = set(snapshot.get("persons", []))
    rows = Ballot.objects.filter(vote=vote, unit__isnull=True).values_list("person_id", "option_id",
                                                                           "option__meaning")
    options = [{"option": o.pk, "label": o.label, "meaning": o.meaning} for o in vote.options.all()]
    return tally.residents_result(
        eligible_count=len(persons),
        ballots=[(option_id, meaning) for person_id, option_id, meaning in rows if person_id in persons],
        quorum=Fraction(vote.quorum_numerator, vote.quorum_denominator),
        majority=Fraction(vote.majority_numerator, vote.majority_denominator),
        strict=vote.majority_strict,
        options=options,
    )


def vote_close(*, actor: Any, vote: Vote) -> Vote:
    """Close an open vote and freeze its result; staff may close early, the platform (``None``) when due."""
    require_capability(actor, vote.scope_path, MANAGE)
    with transaction.atomic():
        locked = _lock(vote)
        if locked.status != VoteStatus.OPEN:
            raise Conflict(VOTE_NOT_CLOSABLE, code="vote_not_open")
        now = timezone.now()
        locked.result = vote_recount(vote=locked)
        locked.status = VoteStatus.CLOSED
        locked.closed_at = now
        bump_version(locked)
        locked.save(update_fields=["result", "status", "closed_at", "version", "updated_at"])
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked,
                     changes={"status": {"old": VoteStatus.OPEN, "new": VoteStatus.CLOSED},
                              "early": now < locked.closes_at, "carried": locked.result.get("carried")})
        carried = gettext("通过") if locked.result.get("carried") else gettext("未通过")
        notify(users=_electorate_users(locked),
               title=gettext("表决结果公布：%(title)s") % {"title": locked.title},
               body=gettext("表决结果：%(outcome)s") % {"outcome": carried}, link=vote_link(locked))
    _refresh(vote, locked)
    return locked


def vote_close_due(*, now: dt.datetime | None = None) -> int:
    """Close every open vote past its closing time (a periodic job of the platform); returns how many."""
    now = now or timezone.now()
    closed = 0
    for vote in Vote.objects.filter(Q(status=VoteStatus.OPEN) & Q(closes_at__lte=now)):
        try:
            vote_close(actor=None, vote=vote)
            closed += 1
        except Conflict:
            continue
    return closed
