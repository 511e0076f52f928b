"""Record linkage (人员比对): find records of one person among the people of a place, with Splink on DuckDB.

``link_run`` streams the active people of a subtree out of the database in chunks — only what matching
needs and nothing decrypted: the normalised name and its pinyin, sex, birth date, building and unit
codes, the phone's keyed hash and whether an ID number is on file — into a DuckDB database in a
temporary file, so memory stays flat whatever the size of the place. Splink scores the pairs the
blocking rules produce; pairs above ``SHEQU_LINK_AUTO_MERGE`` are merged at once (``merges.person_merge``
with ``automatic=True``), pairs above ``SHEQU_LINK_REVIEW`` wait in the review queue (``LinkCandidate``).

The model (Fellegi–Sunter, as Splink implements it):

- m probabilities (how often a level occurs among true duplicates) are fixed priors, written below next
  to each level. They are not learnt by expectation maximisation because the data does not support it:
  a community holds few duplicates (often none), EM over the blocked pairs then converges to whatever
  cluster of near-identical neighbours dominates (same household, same birth date) and the result changes
  from one run to the next with the data. Fixed m values make a decision explainable and repeatable.
- u probabilities (how often a level occurs among different people) are learnt from the data by random
  sampling with a fixed seed when the scope holds at least ``U_TRAINING_MIN`` people (enough random pairs
  to count each level); below that the priors are used.
- the prior that two random records match is ``DUPLICATE_SHARE`` duplicate pairs per record, i.e.
  ``2 · share / n``, bounded, so that a larger population needs more agreement for the same probability.

Pairs where both records carry an ID number are never compared: the ID number is unique in the registry,
so two different ones are two people.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import Capability
from shequ.core.audit import audit_record
from shequ.core.models import AuditAction
from shequ.core.scope import get_in_scope, restrict, subtree_q
from shequ.core.services import require_capability
from shequ.ledgers.choices import LinkRunStatus, LinkStatus
from shequ.ledgers.merges import person_merge
from shequ.ledgers.models import LinkCandidate, LinkRun
from shequ.ledgers.normalise import name_forms
from shequ.registry.choices import PLACE_PATH_LENGTHS, PersonStatus, PlaceKind
from shequ.registry.models import Person, Place

log = logging.getLogger(__name__)

EDIT = Capability.REGISTRY_EDIT
AUTO_MERGE_DEFAULT = 0.99
REVIEW_DEFAULT = 0.80
CHUNK = 5000
SEED = 20240601
U_TRAINING_MIN = 2000
U_MAX_PAIRS = 2_000_000
DUPLICATE_SHARE = 0.02
BUILDING_LENGTH = PLACE_PATH_LENGTHS[PlaceKind.BUILDING]
UNIT_LENGTH = PLACE_PATH_LENGTHS[PlaceKind.UNIT]

RUN_FAILED = _("比对失败：{error}")
NO_PEOPLE = _("该范围内没有在册人员。")

Progress = Callable[[str], None]


def thresholds() -> tuple[float, float]:
    """(auto-merge, review) probabilities, from settings with defaults."""
    auto = float(getattr(settings, "SHEQU_LINK_AUTO_MERGE", AUTO_MERGE_DEFAULT))
    review = float(getattr(settings, "SHEQU_LINK_REVIEW", REVIEW_DEFAULT))
    return auto, review


# --- The model -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    key: str
    label: Any
    sql: str
    m: float
    u: float


@dataclass(frozen=True)
class ComparisonSpec:
    name: str
    label: Any
    null_sql: str
    levels: tuple[Level, ...]  # most to least specific; the last is "everything else"

    def level_key(self, gamma: int) -> str:
        """Splink numbers the non-null levels from n-1 (first) down to 0 (else); -1 is the null level."""
        if gamma < 0:
            return "null"
        return self.levels[len(self.levels) - 1 - gamma].key


COMPARISONS: tuple[ComparisonSpec, ...] = (
    ComparisonSpec("name", _("姓名"), "name_l IS NULL OR name_r IS NULL", (
        Level("exact", _("姓名相同"), "name_l = name_r", 0.80, 0.001),
        Level("pinyin", _("姓名同音"), "pinyin_l = pinyin_r", 0.10, 0.001),
        Level("similar", _("姓名相近"),
              "jaro_winkler_similarity(pinyin_l, pinyin_r) >= 0.88 OR jaro_winkler_similarity(name_l, name_r) >= 0.8",
              0.07, 0.01),
        Level("else", _("姓名不同"), "ELSE", 0.03, 0.988),
    )),
    ComparisonSpec("birth_date", _("出生日期"), "birth_date_l IS NULL OR birth_date_r IS NULL", (
        Level("exact", _("出生日期相同"), "birth_date_l = birth_date_r", 0.85, 0.0001),
        Level("close", _("出生日期仅差一位或同年同月"),
              "damerau_levenshtein(birth_text_l, birth_text_r) <= 1 OR birth_month_l = birth_month_r", 0.09, 0.003),
        Level("year", _("出生日期相差一年内"), "abs(date_diff('day', birth_date_l, birth_date_r)) <= 366", 0.05, 0.03),
        Level("else", _("出生日期不同"), "ELSE", 0.01, 0.967),
    )),
    ComparisonSpec("address", _("住址"), "building_l IS NULL OR building_r IS NULL", (
        Level("unit", _("同一户"), "unit_l = unit_r", 0.60, 0.001),
        Level("building", _("同一楼栋"), "building_l = building_r", 0.25, 0.01),
        Level("else", _("不同楼栋"), "ELSE", 0.15, 0.9895),
    )),
    ComparisonSpec("sex", _("性别"), "sex_l IS NULL OR sex_r IS NULL", (
        Level("same", _("性别相同"), "sex_l = sex_r", 0.98, 0.5),
        Level("else", _("性别不同"), "ELSE", 0.02, 0.5),
    )),
    ComparisonSpec("phone", _("电话"), "phone_l IS NULL OR phone_r IS NULL", (
        Level("same", _("电话相同"), "phone_l = phone_r", 0.70, 0.0002),
        Level("else", _("电话不同"), "ELSE", 0.30, 0.9998),
    )),
)
COMPARISON_BY_NAME = {c.name: c for c in COMPARISONS}
LEVEL_LABELS = {(c.name, lv.key): lv.label for c in COMPARISONS for lv in c.levels}

BLOCKING_RULES = (
    "l.birth_date = r.birth_date",
    "l.surname = r.surname AND l.building = r.building",
    "l.phone = r.phone",
    "l.pinyin = r.pinyin",
)
BOTH_IDENTIFIED = "NOT (l.has_id AND r.has_id)"


def _comparison_dict(spec: ComparisonSpec) -> dict[str, Any]:
    levels: list[dict[str, Any]] = [{"sql_condition": spec.null_sql, "label_for_charts": "null", "is_null_level": True}]
    for lv in spec.levels:
        levels.append({"sql_condition": lv.sql, "label_for_charts": lv.key, "m_probability": lv.m,
                       "u_probability": lv.u})
    return {"output_column_name": spec.name, "comparison_levels": levels}


def settings_for(records: int) -> dict[str, Any]:
    """The Splink settings for a scope of ``records`` people."""
    prior = min(1e-4, max(1e-8, 2 * DUPLICATE_SHARE / max(records, 1)))
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": prior,
        "comparisons": [_comparison_dict(c) for c in COMPARISONS],
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": f"({rule}) AND {BOTH_IDENTIFIED}", "sql_dialect": "duckdb"} for rule in BLOCKING_RULES
        ],
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": False,
    }


# --- Streaming people into DuckDB -----------------------------------------------------------------------

COLUMNS = ("unique_id", "name", "pinyin", "surname", "birth_date", "birth_text", "birth_month", "sex",
           "building", "unit", "phone", "has_id")
CREATE_TABLE = """
CREATE TABLE people (
  unique_id BIGINT, name VARCHAR, pinyin VARCHAR, surname VARCHAR, birth_date DATE, birth_text VARCHAR,
  birth_month VARCHAR, sex VARCHAR, building VARCHAR, unit VARCHAR, phone VARCHAR, has_id BOOLEAN
)"""


def people_in(place: Place) -> QuerySet[Person]:
    return Person.objects.filter(subtree_q(place.path), status=PersonStatus.ACTIVE)


def _rows(place: Place) -> Iterator[list[tuple[Any, ...]]]:
    qs = people_in(place).values_list("id", "name", "birth_date", "sex", "phone_digest", "id_number_digest",
                                      "place__path").order_by("id")
    batch: list[tuple[Any, ...]] = []
    for pk, name, birth, sex, phone, id_digest, path in qs.iterator(chunk_size=CHUNK):
        forms = name_forms(name)
        batch.append((
            pk, forms.key or None, forms.pinyin or None, forms.surname or None, birth,
            birth.strftime("%Y%m%d") if birth else None, birth.strftime("%Y%m") if birth else None, sex or None,
            path[:BUILDING_LENGTH] if len(path) >= BUILDING_LENGTH else None,
            path[:UNIT_LENGTH] if len(path) >= UNIT_LENGTH else None, phone or None, bool(id_digest),
        ))
        if len(batch) >= CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def load_people(con: Any, place: Place) -> int:
    """Copy the place's active people into DuckDB table ``people`` chunk by chunk; return how many."""
    import pyarrow as pa

    con.execute(CREATE_TABLE)
    total = 0
    for batch in _rows(place):
        table = pa.Table.from_pylist([dict(zip(COLUMNS, row, strict=True)) for row in batch])
        con.register("batch", table)
        con.execute(f"INSERT INTO people SELECT {', '.join(COLUMNS)} FROM batch")  # noqa: S608 (fixed column names)
        con.unregister("batch")
        total += len(batch)
    return total


@dataclass
class ScoredPair:
    left_id: int
    right_id: int
    probability: float
    match_weight: float
    details: dict[str, str]


def score_pairs(con: Any, records: int, *, threshold: float) -> tuple[int, Iterator[ScoredPair]]:
    """Train (u by sampling when large enough) and predict; return (pairs compared, pairs ≥ threshold)."""
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(connection=con)
    frame = db_api.register("people", table_name="people_input")
    linker = Linker(frame, settings_for(records), log_level=None)
    if records >= U_TRAINING_MIN:
        # DuckDB's seeded sample is repeatable only on one thread; the rest of the run uses them all.
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
        con.execute("SET threads = 1")
        linker.training.estimate_u_using_random_sampling(
            max_pairs=min(U_MAX_PAIRS, records * (records - 1) / 2), seed=SEED
        )
        con.execute(f"SET threads = {int(threads)}")
    predictions = linker.inference.predict()
    table = predictions.physical_name
    # ``table`` is Splink's own generated table name, never input
    compared = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
    gammas = ", ".join(f"gamma_{c.name}" for c in COMPARISONS)

    def pairs() -> Iterator[ScoredPair]:
        sql = (
            f"SELECT unique_id_l, unique_id_r, match_probability, match_weight, {gammas} FROM {table} "  # noqa: S608
            "WHERE match_probability >= ? ORDER BY match_probability DESC, unique_id_l, unique_id_r"
        )
        cursor = con.execute(sql, [threshold])
        while rows := cursor.fetchmany(CHUNK):
            for row in rows:
                left, right = sorted((int(row[0]), int(row[1])))
                details = {c.name: c.level_key(int(g)) for c, g in zip(COMPARISONS, row[4:], strict=True)}
                yield ScoredPair(left, right, float(row[2]), float(row[3]), details)

    return int(compared), pairs()


# --- The run ----------------------------------------------------------------------------------------------


def _common_scope(a: str, b: str) -> str:
    """The deepest place containing both paths (a whole level of the tree)."""
    best = ""
    for length in sorted(PLACE_PATH_LENGTHS.values()):
        if len(a) >= length and len(b) >= length and a[:length] == b[:length]:
            best = a[:length]
    return best


def link_run(*, actor: Any, place: Place, progress: Progress | None = None) -> LinkRun:
    """Link the active people of ``place``'s subtree; merge the sure pairs, queue the likely ones."""
    require_capability(actor, place.path, EDIT)
    auto, review = thresholds()
    report = progress or (lambda message: None)
    run = LinkRun(place=place, started_by=actor if actor is not None else None,
                  parameters={"auto_merge": auto, "review": review, "seed": SEED})
    run.set_scope(place.path)
    run.save()
    try:
        with tempfile.TemporaryDirectory(prefix="shequ-link-") as folder:
            import duckdb

            con = duckdb.connect(str(Path(folder) / "link.duckdb"))
            try:
                con.execute(f"SET temp_directory = '{Path(folder) / 'spill'}'")
                run.records = load_people(con, place)
                report(f"records: {run.records}")
                if run.records >= 2:
                    run.pairs_compared, pairs = score_pairs(con, run.records, threshold=review)
                    report(f"pairs compared: {run.pairs_compared}")
                    with transaction.atomic():
                        _apply(run, pairs, actor=actor, auto=auto)
            finally:
                con.close()
    except Exception as exc:  # the run is recorded as failed with its reason; nothing of it was applied
        log.exception("link run %s failed", run.pk)
        LinkRun.objects.filter(pk=run.pk).update(
            status=LinkRunStatus.FAILED, failure=str(RUN_FAILED).format(error=type(exc).__name__)[:500],
            finished_at=timezone.now(), records=run.records, pairs_compared=run.pairs_compared,
        )
        run.refresh_from_db()
        return run
    run.status, run.finished_at = LinkRunStatus.DONE, timezone.now()
    run.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=run, object_repr=f"{place.name} 人员比对",
                 changes={"records": run.records, "pairs_compared": run.pairs_compared,
                          "candidates": run.candidates, "auto_merged": run.auto_merged, "queued": run.queued})
    report(f"candidates: {run.candidates}, auto merged: {run.auto_merged}, queued: {run.queued}")
    return run


def _apply(run: LinkRun, pairs: Iterator[ScoredPair], *, actor: Any, auto: float) -> None:
    for pair in pairs:
        existing = LinkCandidate.objects.filter(left_id=pair.left_id, right_id=pair.right_id).first()
        if existing is not None and existing.status != LinkStatus.PENDING:
            continue  # decided before (separated, merged or merged and undone): never proposed again
        people = {p.pk: p for p in Person.objects.filter(pk__in=[pair.left_id, pair.right_id])}
        left, right = people.get(pair.left_id), people.get(pair.right_id)
        if left is None or right is None or left.status != PersonStatus.ACTIVE or right.status != PersonStatus.ACTIVE:
            continue  # one of them was merged earlier in this run
        run.candidates += 1
        candidate = existing or LinkCandidate(left=left, right=right)
        candidate.run, candidate.probability, candidate.match_weight = run, pair.probability, pair.match_weight
        candidate.details = pair.details
        candidate.set_scope(_common_scope(left.scope_path, right.scope_path))
        if existing is not None:
            candidate.version += 1
        candidate.save()
        if pair.probability >= auto:
            person_merge(actor=actor, survivor=left, merged=right, candidate=candidate, automatic=True)
            run.auto_merged += 1
        else:
            run.queued += 1


# --- Reads (scoped) ----------------------------------------------------------------------------------------


def candidate_list(
    *, actor: Any, within: Place | None = None, status: str = LinkStatus.PENDING
) -> QuerySet[LinkCandidate]:
    qs = restrict(LinkCandidate.objects.select_related("left", "left__place", "right", "right__place"), actor,
                  capability=EDIT)
    if within is not None:
        qs = qs.filter(subtree_q(within.path))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-probability", "id")


def candidate_get(*, actor: Any, candidate_id: Any) -> LinkCandidate:
    return get_in_scope(LinkCandidate.objects.select_related("left", "right"), actor, capability=EDIT,
                        pk=candidate_id)


def run_list(*, actor: Any) -> QuerySet[LinkRun]:
    return restrict(LinkRun.objects.select_related("place", "started_by"), actor, capability=EDIT).order_by(
        "-created_at", "-id")


def linkable_places(*, actor: Any) -> QuerySet[Place]:
    """Communities where the actor may start a linkage run."""
    return restrict(Place.objects.filter(kind=PlaceKind.COMMUNITY), actor, capability=EDIT, field="path").order_by(
        "path")


def linkable_place_get(*, actor: Any, place_id: Any) -> Place:
    return get_in_scope(Place.objects.filter(kind__in=[PlaceKind.STREET, PlaceKind.COMMUNITY]), actor,
                        capability=EDIT, pk=place_id)
