"""Counting votes (计票): pure functions over exact fractions (``fractions.Fraction``), never floats.

Both functions take plain data (what a vote's ``electorate_snapshot`` and its stored ballots hold) and
return a JSON-ready dict that states every number the outcome rests on, so a published result shows
how it was computed and a recount from the same data gives the same dict.

Numbers in the result:
- an *amount* (an area in m²) is ``{"exact": "p/q", "display": "80.50"}``;
- a *share* is ``{"exact": "p/q", "percent": "66.67"}`` (the percentage is rounded for display only;
  every comparison is made on the exact fraction);
- a *check* is ``{"share": share, "threshold": "p/q", "bound": "at_least" | "more_than", "met": bool}``:
  ``at_least`` is the Chinese "以上" (the bound itself passes), ``more_than`` is "过半数" (strictly more).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from shequ.deliberation.choices import Matter, OptionMeaning

OWNERS_QUORUM = Fraction(2, 3)
OWNERS_ORDINARY_MAJORITY = Fraction(1, 2)
OWNERS_MAJOR_MAJORITY = Fraction(3, 4)
AT_LEAST = "at_least"
MORE_THAN = "more_than"
SPLIT = "split"
MEANINGS = (OptionMeaning.YES.value, OptionMeaning.NO.value, OptionMeaning.ABSTAIN.value)


# --- Formatting -------------------------------------------------------------------------------------


def fraction_text(value: Fraction) -> str:
    """Always ``"p/q"`` (``"0/1"``, ``"481/1"``), so clients parse one format."""
    return f"{value.numerator}/{value.denominator}"


def parse_fraction(text: str | int | Fraction | Decimal) -> Fraction:
    if isinstance(text, Fraction):
        return text
    if isinstance(text, (int, Decimal)):
        return Fraction(text)
    return Fraction(str(text))


def _decimal(value: Fraction, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(quantum, rounding=ROUND_HALF_UP))


def amount(value: Fraction) -> dict[str, str]:
    return {"exact": fraction_text(value), "display": _decimal(value, 2)}


def share(part: Fraction | int, whole: Fraction | int) -> Fraction:
    """``part / whole``, or 0 when nothing is there to divide."""
    return Fraction(part) / Fraction(whole) if whole else Fraction(0)


def share_out(value: Fraction) -> dict[str, str]:
    return {"exact": fraction_text(value), "percent": _decimal(value * 100, 2)}


def check(value: Fraction, threshold: Fraction, *, bound: str) -> dict[str, Any]:
    met = value >= threshold if bound == AT_LEAST else value > threshold
    return {"share": share_out(value), "threshold": fraction_text(threshold), "bound": bound, "met": met}


# --- Owners (Civil Code art. 278) -------------------------------------------------------------------


def _field(item: Mapping[str, Any] | tuple, key: str, index: int) -> Any:
    return item[key] if isinstance(item, Mapping) else item[index]


def owners_result(
    *,
    units: Iterable[Mapping[str, Any]],
    ballots: Iterable[Mapping[str, Any] | tuple[Any, str]],
    matter: str,
) -> dict[str, Any]:
    """Tally of an owners' vote under Civil Code art. 278 (业主共同决定事项).

    ``units``: the frozen electorate, one mapping per unit ``{"unit": id, "area": "80.50", "owner_key": "p12"}``.
    ``ballots``: one per unit, ``{"unit": id, "meaning": "yes"|"no"|"abstain"}`` or ``(unit, meaning)``;
    ballots for units outside the electorate are ignored (and counted in ``ignored_ballots``); two
    ballots for one unit are an error (the database allows one).
    ``matter``: ``Matter.ORDINARY`` or ``Matter.MAJOR`` (art. 278 items 6–8).

    Counting rules:
    - Area: each unit weighs its exclusive floor area; totals are exact sums.
    - Headcount (SPC interpretation art. 9): one head per *owner key*, the set of a unit's current
      co-owners. Co-owners of one unit are one head; a person owning several units alone is one head
      (their key is the same on each unit); all units held by the developer organisation are one head.
      A person who co-owns one unit and owns another alone holds two different keys and so counts as two
      heads — each key is a different owner (共有人 vs 单独所有人) in the register.
    - Participation: a unit participates when it has a ballot with any meaning, abstention included;
      a head participates when at least one of its units does.
    - A head's stance is the meaning its participating units agree on. ``ballot_cast`` and
      ``ballot_enter_paper`` always write the same option on every unit of an owner key, so units of one
      key agree; if stored data ever disagree, the head is counted as participating with stance
      ``split``: it approves nothing by headcount (nor rejects or abstains) and is reported in
      ``heads.split``. The area of each unit still counts with its own ballot.
    - Quorum: participating area ≥ 2/3 of the total area AND participating heads ≥ 2/3 of all heads.
    - Approval, ordinary matter: yes area > 1/2 of the participating area AND yes heads > 1/2 of the
      participating heads (过半数, strictly). Major matter: ≥ 3/4 of each (以上, the bound passes).
    - ``carried`` = quorum met and approval met.
    """
    if matter not in (Matter.ORDINARY, Matter.MAJOR):
        raise ValueError(f"unknown matter {matter!r}")
    area_of: dict[Any, Fraction] = {}
    key_of: dict[Any, str] = {}
    for item in units:
        unit = _field(item, "unit", 0)
        area_of[unit] = parse_fraction(_field(item, "area", 1))
        key_of[unit] = _field(item, "owner_key", 2) or f"unit:{unit}"
    cast: dict[Any, str] = {}
    ignored = 0
    for ballot in ballots:
        unit, meaning = _field(ballot, "unit", 0), str(_field(ballot, "meaning", 1))
        if unit not in area_of:
            ignored += 1
            continue
        if unit in cast:
            raise ValueError(f"two ballots for unit {unit}")
        if meaning not in MEANINGS:
            raise ValueError(f"meaning {meaning!r} cannot be counted in an owners' vote")
        cast[unit] = meaning

    total_area = sum(area_of.values(), Fraction(0))
    all_heads = set(key_of.values())
    area_by: dict[str, Fraction] = defaultdict(Fraction)
    stances: dict[str, set[str]] = defaultdict(set)
    for unit, meaning in cast.items():
        area_by[meaning] += area_of[unit]
        stances[key_of[unit]].add(meaning)
    heads_by: dict[str, int] = defaultdict(int)
    for meanings in stances.values():
        heads_by[next(iter(meanings)) if len(meanings) == 1 else SPLIT] += 1
    part_area = sum(area_by.values(), Fraction(0))
    part_heads = len(stances)

    quorum_area = check(share(part_area, total_area), OWNERS_QUORUM, bound=AT_LEAST)
    quorum_heads = check(share(part_heads, len(all_heads)), OWNERS_QUORUM, bound=AT_LEAST)
    if matter == Matter.MAJOR:
        threshold, bound = OWNERS_MAJOR_MAJORITY, AT_LEAST
    else:
        threshold, bound = OWNERS_ORDINARY_MAJORITY, MORE_THAN
    approval_area = check(share(area_by[OptionMeaning.YES], part_area), threshold, bound=bound)
    approval_heads = check(share(heads_by[OptionMeaning.YES], part_heads), threshold, bound=bound)
    quorum_met = quorum_area["met"] and quorum_heads["met"]
    approval_met = approval_area["met"] and approval_heads["met"]
    return {
        "method": "civil_code_278",
        "matter": str(matter),
        "area": {
            "total": amount(total_area),
            "participating": amount(part_area),
            **{m: amount(area_by[m]) for m in MEANINGS},
        },
        "heads": {
            "total": len(all_heads),
            "participating": part_heads,
            **{m: heads_by[m] for m in MEANINGS},
            SPLIT: heads_by[SPLIT],
        },
        "units": {"total": len(area_of), "participating": len(cast)},
        "ignored_ballots": ignored,
        "quorum": {"area": quorum_area, "heads": quorum_heads, "met": quorum_met},
        "approval": {"area": approval_area, "heads": approval_heads, "met": approval_met},
        "carried": bool(quorum_met and approval_met),
    }


# --- Residents (one person, one ballot) -------------------------------------------------------------


def residents_result(
    *,
    eligible_count: int,
    ballots: Iterable[Mapping[str, Any] | tuple[Any, str]],
    quorum: Fraction,
    majority: Fraction,
    strict: bool,
    quorum_strict: bool = False,
    options: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Tally of a one-person-one-ballot vote of residents or representatives.

    ``ballots``: one per person, ``{"option": id, "meaning": ...}`` or ``(option, meaning)``.
    ``options``: ``{"option": id, "label": ..., "meaning": ...}`` of the vote, so options without a
    ballot appear with 0.
    - Quorum: ballots cast / ``eligible_count`` ≥ ``quorum`` (``quorum_strict``: strictly more).
    - Abstentions count as participation and stay in the denominator of every share.
    - With a ``yes`` option (同意/反对/弃权): carried when the quorum is met and yes / participating
      passes ``majority`` (``strict``: strictly more, "过半数"; else "以上", the bound passes).
    - With plain choices: the winner is the one option whose share passes ``majority``; no winner
      (e.g. a tie at exactly half under "以上") means not carried.
    """
    quorum, majority = parse_fraction(quorum), parse_fraction(majority)
    counts: dict[Any, int] = defaultdict(int)
    meaning_of: dict[Any, str] = {}
    labels: dict[Any, str] = {}
    for opt in options:
        counts[opt["option"]] += 0
        meaning_of[opt["option"]] = str(opt.get("meaning", OptionMeaning.CHOICE))
        labels[opt["option"]] = str(opt.get("label", ""))
    participating = 0
    for ballot in ballots:
        option, meaning = _field(ballot, "option", 0), str(_field(ballot, "meaning", 1))
        counts[option] += 1
        meaning_of.setdefault(option, meaning)
        participating += 1
    bound = MORE_THAN if strict else AT_LEAST
    quorum_check = check(share(participating, eligible_count), quorum, bound=MORE_THAN if quorum_strict else AT_LEAST)
    option_rows = []
    for option in sorted(counts, key=lambda o: (str(type(o)), o)):
        row = {"option": option, "label": labels.get(option, ""), "meaning": meaning_of[option],
               "count": counts[option], "share": share_out(share(counts[option], participating))}
        option_rows.append(row)
    yes_options = [o for o, m in meaning_of.items() if m == OptionMeaning.YES]
    winner = None
    if yes_options:
        yes = sum(counts[o] for o in yes_options)
        approval = check(share(yes, participating), majority, bound=bound)
        if approval["met"]:
            winner = yes_options[0]
    else:
        passing = [o for o in counts if check(share(counts[o], participating), majority, bound=bound)["met"]]
        best = max(counts.values(), default=0)
        top = [o for o in passing if counts[o] == best]
        winner = top[0] if len(top) == 1 else None
        approval = check(share(counts[winner] if winner is not None else best, participating), majority, bound=bound)
        approval["met"] = winner is not None
    return {
        "method": "one_person_one_vote",
        "eligible": eligible_count,
        "participating": participating,
        "options": option_rows,
        "quorum": quorum_check,
        "approval": approval,
        "winner": winner,
        "carried": bool(quorum_check["met"] and approval["met"]),
    }
