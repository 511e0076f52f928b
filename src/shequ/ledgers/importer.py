"""Importing ledgers (台账导入): upload, map columns, check, import — one person, one record.

The pipeline reads the stored file row by row and works in batches (``BATCH_SIZE``): one query finds
the batch's known people by ID-number digest, new people, facts and tags are ``bulk_create``-d. A
whole import is ONE database transaction: "all or nothing" rolls it back when any row has an error,
"good rows" writes only the rows without one, and a crash anywhere leaves the database as it was.
The check is the same pipeline in a transaction that is always rolled back.

Decisions worth knowing:
* A row whose ID number is already registered (within the actor's scope) enriches that person: empty
  fields are filled, a ``PersonFact`` is recorded per supplied field with the job's source and the
  reference "台账导入#<job> 第N行"; a differing value keeps the value in force and opens a
  ``FactConflict``. An identical value records no fact (the provenance of the value in force is
  already kept, and facts are encrypted: corroboration is left to the job's audit entry).
* Care tags are only ever added. A known person is never moved to another dwelling by a ledger.
* The set of keys already seen (for "duplicate within the file") and the row errors live in a
  temporary on-disk SQLite file, so memory stays flat however long the ledger is.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import sqlite3
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import Capability
from shequ.core import pii
from shequ.core.audit import audit_record
from shequ.core.errors import Conflict, ShequError, ValidationFailed
from shequ.core.fields import EncryptedTextField
from shequ.core.models import AuditAction
from shequ.core.scope import subtree_q
from shequ.core.services import bump_version, check_version, require_capability
from shequ.ledgers import columns as cols
from shequ.ledgers import readers
from shequ.ledgers.choices import ConflictStatus, ImportMode, ImportStatus
from shequ.ledgers.models import FactConflict, ImportJob, ImportRowError, ImportTemplate
from shequ.registry.choices import BusinessLine, PersonStatus, PlaceKind, Relation, ResidenceType
from shequ.registry.models import CareTag, Household, Person, PersonFact, PersonTag, Place
from shequ.registry.services import NAME_REQUIRED, clean_person_values

logger = logging.getLogger(__name__)

EDIT = Capability.REGISTRY_EDIT
BATCH_SIZE = 1000
MAX_BYTES = 20 * 1024 * 1024
IMPORT_DIR = "imports"
FILE_RETENTION = dt.timedelta(days=7)
FACT_FIELDS = ("name", "id_number", "phone", "sex", "birth_date", "residence_type")
ENRICHABLE = ("name", "phone", "sex", "birth_date", "residence_type")

FILE_TOO_LARGE = _("文件超过20MB，请拆分后再上传。")
FILE_EMPTY = _("文件是空的。")
FILE_GONE = _("上传的文件已过期删除，请重新上传。")
COMMUNITY_ONLY = _("台账只能导入到某个居村（社区）。")
SOURCE_INVALID = _("请选择来源条线。")
MODE_INVALID = _("请选择导入方式。")
MAPPING_NAME_REQUIRED = _("请指定哪一列是“姓名”。")
MAPPING_ADDRESS_REQUIRED = _("请指定住址：一列“住址”，或“小区”“楼号”“室号”三列，或一列“房屋编码”。")
MAPPING_FIELD_TWICE = _("“{field}”只能对应一列，现在对应了：{headers}。")
MAPPING_UNKNOWN = _("列对应有误，请刷新页面后重新设置。")
TEMPLATE_NAME_TOO_LONG = _("模板名称最长100个字。")
JOB_NOT_MAPPED = _("请先设置列对应。")
JOB_ALREADY_IMPORTED = _("该台账已经导入，不能重复导入。")
IMPORT_FAILED = _("导入过程中出错，已全部撤销，数据库未作任何改动。请重试或联系管理员（错误类型：{kind}）。")

UNIT_NOT_FOUND = _("找不到该房屋：{address}。")
ADDRESS_MISSING = _("请填写住址（小区、楼号、室号）。")
DUPLICATE_ROW = _("与第{row}行重复。")
ID_OUT_OF_SCOPE = _("该身份证号已登记在其他社区，请联系所属社区。")
HEAD_TAKEN = _("该住户已有户主。")

REFERENCE = "台账导入#{job} 第{row}行"


# --- Selectors ---------------------------------------------------------------------------------------


def import_job_list(*, actor: Any) -> Any:
    from shequ.core.scope import restrict

    return restrict(ImportJob.objects.select_related("community", "created_by"), actor, capability=EDIT)


def import_job_get(*, actor: Any, job_id: Any) -> ImportJob:
    from shequ.core.scope import get_in_scope

    return get_in_scope(ImportJob.objects.select_related("community", "template"), actor, capability=EDIT, pk=job_id)


def import_communities(*, actor: Any) -> list[Place]:
    """The communities where the actor may import ledgers."""
    if actor is None:
        return list(Place.objects.filter(kind=PlaceKind.COMMUNITY).order_by("path"))
    paths = actor.scope_paths(EDIT)
    if not paths:
        return []
    condition = subtree_q(paths[0], field="path")
    for path in paths[1:]:
        condition |= subtree_q(path, field="path")
    return list(Place.objects.filter(condition, kind=PlaceKind.COMMUNITY).order_by("path"))


# --- Upload ------------------------------------------------------------------------------------------


def _media_path(stored_name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / stored_name


def _kind_of_stored(stored_name: str) -> str:
    return readers.XLSX if stored_name.endswith(".xlsx.enc") else readers.CSV


@contextlib.contextmanager
def _clear_file(job: ImportJob) -> Iterator[Path]:
    if not job.stored_name or not _media_path(job.stored_name).exists():
        raise ValidationFailed({"file": str(FILE_GONE)})
    with readers.decrypted_copy(_media_path(job.stored_name), suffix=_kind_of_stored(job.stored_name)) as path:
        yield path


def _open_source(file: Any) -> tuple[IO[bytes], bool]:
    if isinstance(file, (str, os.PathLike)):
        return open(file, "rb"), True  # noqa: SIM115  (closed by the caller)
    if hasattr(file, "seek"):
        file.seek(0)
    return file, False


def import_job_create(
    *,
    actor: Any,
    community: Place,
    file: Any,
    filename: str,
    source: str,
    sheet: str = "",
) -> ImportJob:
    """Store an uploaded ledger encrypted, read its header and suggest (or recall) the column mapping."""
    require_capability(actor, community.path, EDIT)
    if community.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed({"community": str(COMMUNITY_ONLY)})
    if source not in BusinessLine.values:
        raise ValidationFailed({"source": str(SOURCE_INVALID)})
    handle, owned = _open_source(file)
    try:
        head = handle.read(4096)
        handle.seek(0)
        if not head:
            raise ValidationFailed({"file": str(FILE_EMPTY)})
        kind = readers.sniff_kind(head)
        if kind is None:
            raise ValidationFailed({"file": str(readers.FILE_TYPE_INVALID)})
        size = getattr(file, "size", None)
        if size is not None and size > MAX_BYTES:
            raise ValidationFailed({"file": str(FILE_TOO_LARGE)})
        stored_name = f"{IMPORT_DIR}/{uuid.uuid4().hex}.{kind}.enc"
        target = _media_path(stored_name)
        size, digest = readers.store_encrypted(_Limited(handle, MAX_BYTES + 1), target)
    finally:
        if owned:
            handle.close()
    try:
        if size > MAX_BYTES:
            raise ValidationFailed({"file": str(FILE_TOO_LARGE)})
        with readers.decrypted_copy(target, suffix=kind) as clear:
            header = readers.read_header(clear, kind=kind, sheet=sheet)
    except readers.LedgerFileError as exc:
        target.unlink(missing_ok=True)
        raise ValidationFailed({"file": exc.message}) from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    template = _template_for(community, header.headers)
    mapping = _template_mapping(template, header.headers) if template else cols.suggest_mapping(header.headers)
    try:
        with transaction.atomic():
            job = ImportJob(
                community=community,
                created_by=actor if actor is not None else None,
                filename=(os.path.basename(filename or "") or "ledger")[:200],
                stored_name=stored_name,
                file_digest=digest,
                sheet=sheet[:100],
                header_row=header.row,
                headers=header.headers,
                mapping=mapping,
                template=template,
                source=source,
            )
            job.set_scope(community.path)
            job.save()
            if template is not None:
                ImportTemplate.objects.filter(pk=template.pk).update(used_count=F("used_count") + 1)
            audit_record(actor=actor, action=AuditAction.CREATE, obj=job, object_repr=job.filename[:200],
                         changes={"source": source, "template": template.name if template else ""})
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return job


class _Limited:
    """Reads at most ``limit`` bytes of a stream (an oversized upload is not stored whole)."""

    def __init__(self, handle: IO[bytes], limit: int) -> None:
        self.handle, self.left = handle, limit

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        data = self.handle.read(min(size, self.left) if size >= 0 else self.left)
        self.left -= len(data)
        return data


def _template_for(community: Place, headers: list[str]) -> ImportTemplate | None:
    signature = cols.header_signature(headers)
    candidates = ImportTemplate.objects.filter(
        header_signature=signature, scope_path__in=[community.path, community.path[:9]]
    )
    # The community's own template wins over its street's.
    return max(candidates, key=lambda t: len(t.scope_path), default=None)


def _template_mapping(template: ImportTemplate, headers: list[str]) -> dict[str, str]:
    """The template's mapping applied by position (headers may differ in spaces or hints only)."""
    remembered = [h for h in template.headers if cols.normalise_header(h) != cols.normalise_header(cols.ERROR_COLUMN)]
    fields = [template.mapping.get(h, "") for h in remembered]
    mapping: dict[str, str] = {}
    position = 0
    for header in headers:
        if header == cols.ERROR_COLUMN:
            mapping[header] = ""
            continue
        mapping[header] = fields[position] if position < len(fields) else ""
        position += 1
    return mapping


# --- Mapping -----------------------------------------------------------------------------------------


def validate_mapping(headers: list[str], mapping: Mapping[str, str]) -> dict[str, str]:
    """The mapping cleaned (every header present, ``""`` for ignored); ``ValidationFailed`` in Chinese."""
    if set(mapping) - set(headers) or any(v and v not in cols.FIELDS for v in mapping.values()):
        raise ValidationFailed({"mapping": str(MAPPING_UNKNOWN)})
    clean = {h: ("" if h == cols.ERROR_COLUMN else (mapping.get(h) or "")) for h in headers}
    errors: list[str] = []
    by_field: dict[str, list[str]] = {}
    for header, fld in clean.items():
        if fld:
            by_field.setdefault(fld, []).append(header)
    for fld, hs in by_field.items():
        if len(hs) > 1:
            errors.append(str(MAPPING_FIELD_TWICE).format(field=cols.FIELDS[fld].label, headers="、".join(hs)))
    if "name" not in by_field:
        errors.append(str(MAPPING_NAME_REQUIRED))
    has_parts = all(p in by_field for p in cols.ADDRESS_PARTS)
    if not ("address" in by_field or "place_code" in by_field or has_parts):
        errors.append(str(MAPPING_ADDRESS_REQUIRED))
    if errors:
        raise ValidationFailed({"mapping": errors})
    return clean


@transaction.atomic
def import_job_map(
    *, actor: Any, job: ImportJob, mapping: Mapping[str, str], save_template_name: str = ""
) -> ImportJob:
    """Set the column mapping (and remember it as a template when named)."""
    require_capability(actor, job.scope_path, EDIT)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status == ImportStatus.IMPORTED:
        raise Conflict(JOB_ALREADY_IMPORTED)
    clean = validate_mapping(job.headers, mapping)
    name = " ".join((save_template_name or "").split())
    if len(name) > 100:
        raise ValidationFailed({"save_template_name": str(TEMPLATE_NAME_TOO_LONG)})
    if name:
        template, created = ImportTemplate.objects.update_or_create(
            scope_path=job.scope_path,
            header_signature=cols.header_signature(job.headers),
            defaults={"name": name, "headers": job.headers, "mapping": clean, "source": job.source,
                      "street_code": job.scope_path[:9], "created_by": actor if actor is not None else None},
        )
        job.template = template
        audit_record(actor=actor, action=AuditAction.CREATE if created else AuditAction.UPDATE, obj=template)
    job.mapping = clean
    job.status = ImportStatus.UPLOADED
    job.checked_at = None
    bump_version(job)
    job.save()
    return job


PREVIEW_ROWS = 20
PREVIEW_SAMPLES = 3


def sample_text(value: Any) -> str:
    """A cell as an example on the mapping page: enough to tell what the column holds, not whose it is
    (张…, 3101…, 138…); one- and two-character values such as 男 or 户主 are shown whole."""
    text = cols.cell_text(value)
    if len(text) <= 2:
        return text
    return text[: min(4, max(1, len(text) // 3))] + "…"


def import_job_samples(*, actor: Any, job: ImportJob) -> dict[int, list[str]]:
    """Per column index, up to three shortened examples from the first data rows (for the mapping page)."""
    require_capability(actor, job.scope_path, EDIT)
    samples: dict[int, list[str]] = {}
    try:
        with _clear_file(job) as path:
            rows = readers.data_rows(path, kind=_kind_of_stored(job.stored_name), sheet=job.sheet,
                                     header_row=job.header_row)
            for _number, cells in islice(rows, PREVIEW_ROWS):
                for i, cell in enumerate(cells[: len(job.headers)]):
                    text = sample_text(cell)
                    if text and len(samples.setdefault(i, [])) < PREVIEW_SAMPLES:
                        samples[i].append(text)
    except (ValidationFailed, readers.LedgerFileError):
        return {}  # the check step reports an unreadable or expired file
    return samples


def _require_mapped(job: ImportJob) -> None:
    try:
        validate_mapping(job.headers, job.mapping)
    except ValidationFailed as exc:
        raise ValidationFailed({"mapping": str(JOB_NOT_MAPPED)}) from exc


# --- Addresses ---------------------------------------------------------------------------------------


def _strip(text: str) -> str:
    return re.sub(r"[\s·,，]", "", text or "")


def _building_key(text: str) -> str:
    text = _strip(text)
    digits = re.search(r"\d+", text)
    if digits:
        return str(int(digits.group()))
    return re.sub(r"(号楼|幢|栋|楼|座|号)$", "", text)


def _room_key(text: str) -> str:
    text = _strip(text)
    digits = re.fullmatch(r"\D*?(\d+)(室|号|户)?", text)
    if digits:
        return str(int(digits.group(1)))
    return re.sub(r"(室|号|户)$", "", text)


def _compound_keys(name: str) -> list[str]:
    full = _strip(name)
    keys = [full]
    for suffix in ("小区", "新村", "花园", "公寓"):
        if full.endswith(suffix) and len(full) > len(suffix):
            keys.append(full[: -len(suffix)])
    return keys


_ADDRESS_RE = re.compile(r"^(.+?)(?:号楼|幢|栋|楼|座|号|-|—|－)+(\d+)(?:室|号|户)?$")


@dataclass
class _Unit:
    pk: int
    path: str


class UnitIndex:
    """The dwelling units of one community, found by compound + building + room or by code."""

    def __init__(self, community: Place) -> None:
        rows = Place.objects.filter(subtree_q(community.path), kind__in=[
            PlaceKind.COMPOUND, PlaceKind.BUILDING, PlaceKind.UNIT]).values_list("pk", "path", "name", "kind")
        compounds: dict[str, str] = {}
        buildings: dict[str, str] = {}
        units: list[tuple[int, str, str]] = []
        for pk, path, name, kind in rows:
            if kind == PlaceKind.COMPOUND:
                compounds[path] = name
            elif kind == PlaceKind.BUILDING:
                buildings[path] = name
            else:
                units.append((pk, path, name))
        self.compound_keys: dict[str, str] = {}
        for path, name in compounds.items():
            for key in _compound_keys(name):
                self.compound_keys.setdefault(key, path)
        self.ordered_keys = sorted(self.compound_keys, key=len, reverse=True)
        self.units: dict[tuple[str, str, str], _Unit] = {}
        self.by_code: dict[str, _Unit] = {}
        for pk, path, name in units:
            building_path = path[: -4]
            compound_path = building_path[:-3]
            building = buildings.get(building_path, "")
            unit = _Unit(pk, path)
            self.units[(compound_path, _building_key(building), _room_key(name))] = unit
            self.units.setdefault((compound_path, _building_key(building), _room_key(path[-4:])), unit)
            self.by_code[path] = unit

    def find(self, compound: str, building: str, room: str) -> _Unit | None:
        compound_path = self.compound_keys.get(_strip(compound))
        if compound_path is None:
            return None
        return self.units.get((compound_path, _building_key(building), _room_key(room)))

    def find_text(self, address: str) -> _Unit | None:
        text = _strip(address)
        for key in self.ordered_keys:
            at = text.find(key)
            if at < 0:
                continue
            rest = text[at + len(key):]
            match = _ADDRESS_RE.match(rest)
            if match:
                unit = self.units.get((self.compound_keys[key], _building_key(match[1]), _room_key(match[2])))
                if unit:
                    return unit
        return None

    def find_code(self, code: str) -> _Unit | None:
        return self.by_code.get(_strip(code))


# --- The pipeline ------------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    values: dict[str, Any] = field(default_factory=dict)
    supplied: set[str] = field(default_factory=set)
    errors: list[tuple[str, str]] = field(default_factory=list)
    unit: _Unit | None = None
    tags: list[str] = field(default_factory=list)
    digest: str = ""
    household_key: tuple[int, str] | None = None


@dataclass
class Counts:
    total: int = 0
    error_rows: int = 0
    created: int = 0
    enriched: int = 0
    unchanged: int = 0
    conflicts: int = 0


class _Scratch:
    """A temporary on-disk SQLite file: keys seen in the file, household heads, and row errors."""

    def __init__(self) -> None:
        fd, self.path = tempfile.mkstemp(prefix="shequ-import-", suffix=".sqlite3")
        os.close(fd)
        self.db = sqlite3.connect(self.path)
        self.db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE seen (key TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID;"
            "CREATE TABLE heads (key TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID;"
            "CREATE TABLE errors (row INTEGER, col TEXT, header TEXT, field TEXT, message TEXT);"
        )

    def first_seen(self, table: str, key: str, row: int) -> int | None:
        found = self.db.execute(f"SELECT row FROM {table} WHERE key = ?", (key,)).fetchone()  # noqa: S608
        if found:
            return int(found[0])
        self.db.execute(f"INSERT INTO {table} (key, row) VALUES (?, ?)", (key, row))  # noqa: S608
        return None

    def add_errors(self, items: Iterable[tuple[int, str, str, str, str]]) -> None:
        self.db.executemany("INSERT INTO errors VALUES (?, ?, ?, ?, ?)", items)

    def errors(self) -> Iterator[tuple[int, str, str, str, str]]:
        yield from self.db.execute("SELECT row, col, header, field, message FROM errors ORDER BY rowid")

    def close(self) -> None:
        self.db.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def _key(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


FACT_COLUMNS = ("person", "field", "value", "value_digest", "source", "supplied_at", "recorded_by", "reference",
                "created_at", "updated_at")
TAG_COLUMNS = ("person", "tag_digest", "source", "since", "created_at", "updated_at")
LOW_CARDINALITY = frozenset({"sex", "residence_type"})


def insert_rows(model: type[Any], fields: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Multi-row INSERTs of already prepared values (encrypted, adapted) into ``model``'s table."""
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(f).column) for f in fields)
    if connection.vendor == "postgresql":  # COPY: PostgreSQL's own bulk load
        with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        return
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, 2000 // len(fields))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([one] * len(chunk))}"  # noqa: S608
            cursor.execute(sql, [value for row in chunk for value in row])


def allocate_ids(model: type[Any], count: int) -> list[int]:
    """``count`` fresh primary keys for rows written outside the ORM, inside the import's transaction.

    PostgreSQL hands them out from the table's sequence; on SQLite the import holds the database's write
    lock from its first statement (transactions begin IMMEDIATE), so the next ids after the largest are ours.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sequence = f"pg_get_serial_sequence('{model._meta.db_table}', 'id')"
            cursor.execute(f"SELECT nextval({sequence}) FROM generate_series(1, %s)", [count])  # noqa: S608
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - our own table name
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))


PERSON_COLUMNS = tuple(f.attname for f in Person._meta.concrete_fields)


def _person_converters() -> list[tuple[str, Any]]:
    """Per column, how a Python value becomes a database value: dates and times by the backend's adapter,
    encrypted fields as the ``Ciphertext`` they already are, everything else (text, numbers, ids) as it is."""
    from django.db import models

    ops = connection.ops

    def as_is(value: Any) -> Any:
        return value

    def date(value: Any) -> Any:
        return None if value is None else ops.adapt_datefield_value(value)

    def moment(value: Any) -> Any:
        return None if value is None else ops.adapt_datetimefield_value(value)

    converters = []
    for f in Person._meta.concrete_fields:
        if isinstance(f, models.DateTimeField):
            converters.append((f.attname, moment))
        elif isinstance(f, models.DateField):
            converters.append((f.attname, date))
        elif isinstance(f, models.CharField | models.TextField | models.IntegerField | models.ForeignKey):
            converters.append((f.attname, str if isinstance(f, EncryptedTextField) else as_is))
        else:
            converters.append((f.attname, lambda value, f=f: f.get_db_prep_save(value, connection)))
    return converters


def insert_people(people: list[Person], *, now: dt.datetime) -> None:
    """Write new people without the ORM's per-field work: ID numbers and phones encrypted in one go
    (``pii.encrypt_many``), ids allocated up front, rows sent by COPY / multi-row INSERT (``insert_rows``)."""
    if not people:
        return
    secrets = pii.encrypt_many([v for p in people for v in (p.id_number, p.phone)])
    for k, (person, pk) in enumerate(zip(people, allocate_ids(Person, len(people)), strict=True)):
        person.pk = pk
        person.id_number, person.phone = pii.Ciphertext(secrets[2 * k]), pii.Ciphertext(secrets[2 * k + 1])
        person.created_at = person.updated_at = now
    converters = _person_converters()
    rows = [tuple(convert(getattr(p, name)) for name, convert in converters) for p in people]
    insert_rows(Person, PERSON_COLUMNS, rows)
    for person in people:
        person._state.adding, person._state.db = False, connection.alias


class Pipeline:
    """One pass over a job's rows: validate, look up, and (when ``writing``) write batch by batch."""

    def __init__(self, *, job: ImportJob, actor: Any, writing: bool, stop_writing_on_error: bool = False) -> None:
        self.job, self.actor = job, actor
        self.writing = writing
        self.stop_writing_on_error = stop_writing_on_error
        self.counts = Counts()
        self.now = timezone.now()
        self.index = UnitIndex(job.community)
        self.headers = list(job.headers)
        self.field_index = {f: self.headers.index(h) for h, f in job.mapping.items() if f and h in self.headers}
        self.vocabulary = {}
        for tag in CareTag.objects.filter(active=True):
            self.vocabulary[tag.name] = tag.slug
            self.vocabulary[tag.slug] = tag.slug
        self.tag_digests = {slug: pii.blind_index(slug, purpose="tag") for slug in set(self.vocabulary.values())}
        self.scope = None if actor is None else actor.scope_paths(EDIT)
        self.recorded_by = actor if actor is not None else None
        self.recorded_by_id = actor.pk if actor is not None else None
        self.db_now = connection.ops.adapt_datetimefield_value(self.now)
        self._cipher_cache: dict[tuple[str, str], tuple[str, str]] = {}
        self.scratch = _Scratch()

    # -- where a problem is shown
    def _column(self, fld: str) -> tuple[str, str]:
        candidates = {
            "address": ("address", "place_code", "compound", "building", "room"),
            "unit": ("address", "place_code", "compound", "building", "room"),
            "duplicate": ("id_number", "name"),
        }.get(fld, (fld, "id_number"))
        for name in candidates:
            if name in self.field_index:
                i = self.field_index[name]
                return cols.column_letter(i), self.headers[i]
        return "", ""

    def run(self) -> Counts:
        try:
            with _clear_file(self.job) as path:
                kind = _kind_of_stored(self.job.stored_name)
                for batch in readers.batched_data_rows(path, kind=kind, sheet=self.job.sheet,
                                                       header_row=self.job.header_row, size=BATCH_SIZE):
                    self._batch(batch)
        except readers.LedgerFileError as exc:
            raise ValidationFailed({"file": exc.message}) from exc
        return self.counts

    def errors(self) -> Iterator[tuple[int, str, str, str, str]]:
        return self.scratch.errors()

    def close(self) -> None:
        self.scratch.close()

    # -- one batch
    def _batch(self, batch: list[tuple[int, list[Any]]]) -> None:
        rows = [self._parse(number, cells) for number, cells in batch]
        self.counts.total += len(rows)
        self._check_duplicates(rows)
        known = self._known_people([r for r in rows if r.digest and not r.errors])
        households = self._households([r for r in rows if r.household_key and not r.errors and r.digest not in known])
        for row in rows:
            if row.errors or row.digest in known:
                continue
            if row.household_key and row.values.get("relation") == Relation.HEAD:
                hh = households.get(row.household_key)
                seen = self.scratch.first_seen("heads", _key(*row.household_key), row.number)
                if (hh is not None and hh.head_id) or seen is not None:
                    row.errors.append(("relation", str(HEAD_TAKEN)))
        bad = [r for r in rows if r.errors]
        if bad:
            self.counts.error_rows += len(bad)
            items = []
            for row in bad:
                for fld, message in row.errors:
                    letter, header = self._column(fld)
                    items.append((row.number, letter, header, fld, message[:300]))
            self.scratch.add_errors(items)
        good = [r for r in rows if not r.errors]
        new_rows = [r for r in good if r.digest not in known]
        old_rows = [r for r in good if r.digest in known]
        self.counts.created += len(new_rows)
        write = self.writing
        self._create_people(new_rows, households, write=write)
        self._enrich(old_rows, known, write=write)
        if bad and self.stop_writing_on_error:
            self.writing = False

    def _parse(self, number: int, cells: list[Any]) -> _Row:
        row = _Row(number)
        values = row.values

        def cell(fld: str) -> Any:
            i = self.field_index.get(fld)
            return cells[i] if i is not None and i < len(cells) else None

        parsers: dict[str, Any] = {
            "name": cols.cell_text,
            "id_number": lambda v: cols.cell_text(v).upper(),
            "phone": cols.cell_text,
            "sex": cols.parse_sex,
            "birth_date": cols.parse_date,
            "residence_type": cols.parse_residence_type,
            "relation": cols.parse_relation,
            "household_number": lambda v: cols.parse_text(v, limit=32),
            "notes": lambda v: cols.parse_text(v, limit=2000),
        }
        for fld, parse in parsers.items():
            if fld not in self.field_index:
                continue
            try:
                value = parse(cell(fld))
            except cols.CellError as exc:
                row.errors.append((fld, exc.message))
                continue
            if value not in ("", None):
                values[fld] = value
                row.supplied.add(fld)
        if "tags" in self.field_index:
            try:
                row.tags = cols.parse_tags(cell("tags"), vocabulary=self.vocabulary)
            except cols.CellError as exc:
                row.errors.append(("tags", exc.message))
        person = {k: values[k] for k in ("name", "id_number", "phone", "sex", "birth_date") if k in values}
        person.setdefault("name", "")
        failed = {f for f, _m in row.errors}
        try:
            person = clean_person_values(person, existing=None)
        except ValidationFailed as exc:
            for fld, messages in exc.errors.items():
                if fld not in failed:
                    row.errors.append((fld, messages[0]))
        else:
            values.update(person)
            if values.get("id_number"):
                row.digest = pii.blind_index(values["id_number"], purpose="id")
        if not values.get("name") and not any(f == "name" for f, _m in row.errors):
            row.errors.append(("name", str(NAME_REQUIRED)))
        self._locate(row, cell)
        if row.unit and ("household_number" in values or "relation" in values):
            row.household_key = (row.unit.pk, values.get("household_number", ""))
        return row

    def _locate(self, row: _Row, cell: Any) -> None:
        if "place_code" in self.field_index and cols.cell_text(cell("place_code")):
            code = cols.cell_text(cell("place_code"))
            row.unit = self.index.find_code(code)
            if row.unit is None:
                row.errors.append(("place_code", str(UNIT_NOT_FOUND).format(address=code[:60])))
            return
        if "address" in self.field_index and cols.cell_text(cell("address")):
            text = cols.cell_text(cell("address"))
            row.unit = self.index.find_text(text)
            if row.unit is None:
                row.errors.append(("address", str(UNIT_NOT_FOUND).format(address=text[:60])))
            return
        parts = [cols.cell_text(cell(p)) for p in cols.ADDRESS_PARTS]
        if all(p in self.field_index for p in cols.ADDRESS_PARTS) and all(parts):
            row.unit = self.index.find(*parts)
            if row.unit is None:
                row.errors.append(("compound", str(UNIT_NOT_FOUND).format(address="".join(parts)[:60])))
            return
        row.errors.append(("address", str(ADDRESS_MISSING)))

    def _check_duplicates(self, rows: list[_Row]) -> None:
        for row in rows:
            values = row.values
            if row.digest:
                key, fld = "i" + row.digest, "id_number"
            elif values.get("name") and values.get("birth_date") and row.unit:
                key, fld = _key("n", values["name"], values["birth_date"], row.unit.pk), "duplicate"
            else:
                continue
            first = self.scratch.first_seen("seen", key, row.number)
            if first is not None:
                row.errors.append((fld, str(DUPLICATE_ROW).format(row=first)))

    def _in_scope(self, path: str) -> bool:
        return self.scope is None or any(path.startswith(p) for p in self.scope)

    def _known_people(self, rows: list[_Row]) -> dict[str, Person]:
        if not rows:
            return {}
        found = {
            p.id_number_digest: p
            for p in Person.objects.filter(id_number_digest__in=[r.digest for r in rows]).defer("id_number", "phone")
        }
        merged = {p.merged_into_id for p in found.values() if p.status == PersonStatus.MERGED and p.merged_into_id}
        survivors = {p.pk: p for p in Person.objects.filter(pk__in=merged).defer("id_number", "phone")}
        known: dict[str, Person] = {}
        for row in rows:
            person = found.get(row.digest)
            if person is None:
                continue
            if person.status == PersonStatus.MERGED and person.merged_into_id in survivors:
                person = survivors[person.merged_into_id]
            if not self._in_scope(person.scope_path):
                row.errors.append(("id_number", str(ID_OUT_OF_SCOPE)))
                continue
            known[row.digest] = person
        return known

    def _households(self, rows: list[_Row]) -> dict[tuple[int, str], Household]:
        keys = {r.household_key for r in rows if r.household_key}
        if not keys:
            return {}
        units = {k[0] for k in keys}
        numbers = {k[1] for k in keys}
        found: dict[tuple[int, str], Household] = {}
        for hh in Household.objects.filter(unit_id__in=units, number__in=numbers).order_by("id"):
            found.setdefault((hh.unit_id, hh.number), hh)
        return found

    # -- writing
    def _reference(self, row: _Row) -> str:
        return REFERENCE.format(job=self.job.pk, row=row.number)

    def _encrypted(self, fld: str, text: str) -> tuple[str, str]:
        """Ciphertext and blind index of a fact value. The few values of sex and residence type are
        encrypted once per import: their equality is already told by the blind index."""
        if fld in LOW_CARDINALITY:
            cached = self._cipher_cache.get((fld, text))
            if cached is None:
                cached = self._cipher_cache[(fld, text)] = (
                    pii.encrypt(text), pii.blind_index(text, purpose=f"fact:{fld}"))
            return cached
        return pii.encrypt(text), pii.blind_index(text, purpose=f"fact:{fld}")

    def _fact_row(self, person_id: int, fld: str, value: Any, row: _Row) -> tuple[Any, ...]:
        """A PersonFact as a row for a plain INSERT (the ORM's per-value overhead dominates bulk imports)."""
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
        cipher, digest = self._encrypted(fld, text)
        return (person_id, fld, cipher, digest, self.job.source, self.db_now, self.recorded_by_id,
                self._reference(row), self.db_now, self.db_now)

    def _fact_rows(self, supplied: list[tuple[int, str, Any, _Row]]) -> list[tuple[Any, ...]]:
        """``_fact_row`` for a whole batch, with one bulk encryption of the values."""
        texts = [v.isoformat() if isinstance(v, dt.date) else str(v) for _pk, _f, v, _r in supplied]
        fresh = [i for i, (_pk, fld, _v, _r) in enumerate(supplied) if fld not in LOW_CARDINALITY]
        ciphers = dict(zip(fresh, pii.encrypt_many([texts[i] for i in fresh]), strict=True))
        by_field: dict[str, list[int]] = {}
        for i in fresh:
            by_field.setdefault(supplied[i][1], []).append(i)
        digests: dict[int, str] = {}
        for fld, members in by_field.items():
            digests.update(zip(members, pii.blind_index_many([texts[i] for i in members], purpose=f"fact:{fld}"),
                               strict=True))
        rows = []
        for i, (person_id, fld, _value, row) in enumerate(supplied):
            if i in ciphers:
                cipher, digest = ciphers[i], digests[i]
            else:
                cipher, digest = self._encrypted(fld, texts[i])
            rows.append((person_id, fld, cipher, digest, self.job.source, self.db_now, self.recorded_by_id,
                         self._reference(row), self.db_now, self.db_now))
        return rows

    def _tag_row(self, person_id: int, slug: str) -> tuple[Any, ...]:
        return (person_id, self.tag_digests[slug], self.job.source, None, self.db_now, self.db_now)

    def _fact(self, person_id: int, fld: str, value: Any, row: _Row) -> PersonFact:
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
        return PersonFact(
            person_id=person_id, field=fld, value=text, value_digest=pii.blind_index(text, purpose=f"fact:{fld}"),
            source=self.job.source, supplied_at=self.now, recorded_by=self.recorded_by, reference=self._reference(row),
        )

    def _create_people(self, rows: list[_Row], households: dict[tuple[int, str], Household], *, write: bool) -> None:
        if not rows or not write:
            return
        missing = {r.household_key: r.unit for r in rows if r.household_key and r.household_key not in households}
        if missing:
            created = []
            for (unit_pk, number), unit in missing.items():
                hh = Household(unit_id=unit_pk, number=number)
                hh.set_scope(unit.path if unit else "")
                created.append(hh)
            Household.objects.bulk_create(created)
            households.update({(h.unit_id, h.number): h for h in created})
        people = [new_person(self, row, households) for row in rows]
        insert_people(people, now=self.now)
        heads = []
        for row, person in zip(rows, people, strict=True):
            if person.household_id and person.relation == Relation.HEAD:
                hh = households[row.household_key]  # type: ignore[index]
                hh.head_id = person.pk
                heads.append(hh)
        if heads:
            Household.objects.bulk_update(heads, ["head"])
        supplied: list[tuple[int, str, Any, _Row]] = []
        tags: list[tuple[Any, ...]] = []
        for row, person in zip(rows, people, strict=True):
            supplied.extend((person.pk, fld, row.values[fld], row) for fld in FACT_FIELDS if fld in row.supplied)
            tags.extend(self._tag_row(person.pk, slug) for slug in row.tags)
        insert_rows(PersonFact, FACT_COLUMNS, self._fact_rows(supplied))
        insert_rows(PersonTag, TAG_COLUMNS, tags)

    def _enrich(self, rows: list[_Row], known: dict[str, Person], *, write: bool) -> None:
        if not rows:
            return
        ids = [known[r.digest].pk for r in rows]
        current_tags: set[tuple[int, str]] = set(
            PersonTag.objects.filter(person_id__in=ids).values_list("person_id", "tag_digest"))
        open_conflicts: set[tuple[int, str, str]] = set(
            FactConflict.objects.filter(person_id__in=ids, status=ConflictStatus.OPEN)
            .values_list("person_id", "field", "incoming__value_digest"))
        changed_people: dict[int, Person] = {}
        changed_fields: set[str] = set()
        facts: list[tuple[Any, ...]] = []
        conflict_facts: list[tuple[Person, str, PersonFact]] = []
        tags: list[tuple[Any, ...]] = []
        for row in rows:
            person = known[row.digest]
            enriched = conflicted = False
            for fld in ENRICHABLE:
                if fld not in row.supplied:
                    continue
                incoming = row.values[fld]
                if fld == "phone":
                    digest = pii.blind_index(incoming, purpose="phone")
                    current_empty, same = not person.phone_digest, person.phone_digest == digest
                else:
                    current = getattr(person, fld)
                    current_empty, same = current in (None, ""), current == incoming
                if same:
                    continue
                if current_empty:
                    setattr(person, fld, incoming)
                    if fld == "phone":
                        person.phone_digest = digest
                        changed_fields.add("phone_digest")
                    changed_fields.add(fld)
                    changed_people[person.pk] = person
                    facts.append(self._fact_row(person.pk, fld, incoming, row))
                    enriched = True
                else:
                    fact = self._fact(person.pk, fld, incoming, row)
                    if (person.pk, fld, fact.value_digest) not in open_conflicts:
                        open_conflicts.add((person.pk, fld, fact.value_digest))
                        conflict_facts.append((person, fld, fact))
                        conflicted = True
            if row.values.get("notes") and not person.notes:
                person.notes = row.values["notes"]
                changed_fields.add("notes")
                changed_people[person.pk] = person
                enriched = True
            for slug in row.tags:
                digest = self.tag_digests[slug]
                if (person.pk, digest) not in current_tags:
                    current_tags.add((person.pk, digest))
                    tags.append(self._tag_row(person.pk, slug))
                    enriched = True
            if enriched:
                self.counts.enriched += 1
            elif not conflicted:
                self.counts.unchanged += 1
        self.counts.conflicts += len(conflict_facts)
        if not write:
            return
        if changed_people:
            for person in changed_people.values():
                person.version += 1
                person.updated_at = self.now
            Person.objects.bulk_update(list(changed_people.values()), [*sorted(changed_fields), "version",
                                                                       "updated_at"], batch_size=BATCH_SIZE)
        insert_rows(PersonFact, FACT_COLUMNS, facts)
        PersonFact.objects.bulk_create([f for _p, _f, f in conflict_facts], batch_size=BATCH_SIZE)
        conflicts = []
        for person, fld, fact in conflict_facts:
            conflict = FactConflict(person_id=person.pk, field=fld, incoming=fact, job=self.job)
            conflict.set_scope(person.scope_path)
            conflicts.append(conflict)
        FactConflict.objects.bulk_create(conflicts, batch_size=BATCH_SIZE)
        insert_rows(PersonTag, TAG_COLUMNS, tags)


def new_person(pipeline: Pipeline, row: _Row, households: dict[tuple[int, str], Household]) -> Person:
    """The unsaved ``Person`` for a new row (a module function so a test can make it fail mid-import)."""
    values = row.values
    household = households.get(row.household_key) if row.household_key else None
    unit = row.unit
    assert unit is not None  # noqa: S101  (rows without a unit are errors)
    person = Person(
        name=values["name"],
        id_number=values.get("id_number", ""),
        sex=values.get("sex", ""),
        birth_date=values.get("birth_date"),
        phone=values.get("phone", ""),
        residence_type=values.get("residence_type") or ResidenceType.REGISTERED,
        place_id=unit.pk,
        household=household,
        relation=(values.get("relation") or Relation.OTHER) if household else "",
        notes=values.get("notes", ""),
    )
    person.id_number_digest = row.digest or None
    person.phone_digest = pii.blind_index(person.phone, purpose="phone") if person.phone else ""
    person.set_scope(unit.path)
    return person


# --- Check and run -----------------------------------------------------------------------------------


class _Rollback(Exception):
    """Raised inside the transaction to undo it (a dry run, or an all-or-nothing import with errors)."""


def _save_errors(job: ImportJob, errors: Iterable[tuple[int, str, str, str, str]]) -> None:
    ImportRowError.objects.filter(job=job).delete()
    for batch in readers.batched(errors, 2000):
        ImportRowError.objects.bulk_create(
            ImportRowError(job=job, row=r, column=c, header=h[:100], field=f, message=m) for r, c, h, f, m in batch
        )


def _apply_counts(job: ImportJob, counts: Counts) -> None:
    job.total_rows, job.error_rows = counts.total, counts.error_rows
    job.created_count, job.enriched_count = counts.created, counts.enriched
    job.unchanged_count, job.conflict_count = counts.unchanged, counts.conflicts


def import_job_check(*, actor: Any, job: ImportJob) -> ImportJob:
    """A dry run of the whole import in a transaction that is rolled back: counts and row errors."""
    require_capability(actor, job.scope_path, EDIT)
    _require_mapped(job)
    if job.status == ImportStatus.IMPORTED:
        raise Conflict(JOB_ALREADY_IMPORTED)
    pipeline = Pipeline(job=job, actor=actor, writing=True)
    try:
        try:
            with transaction.atomic():
                pipeline.run()
                raise _Rollback()
        except _Rollback:
            pass
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=job.pk)
            _apply_counts(job, pipeline.counts)
            job.status = ImportStatus.CHECKED
            job.checked_at = timezone.now()
            job.failure = ""
            bump_version(job)
            job.save()
            _save_errors(job, pipeline.errors())
    finally:
        pipeline.close()
    return job


def import_job_run(*, actor: Any, job: ImportJob, mode: str, version: int | None = None) -> ImportJob:
    """The real import, in ONE transaction. Returns the job IMPORTED, REJECTED or FAILED.

    A second run of a job already imported (or a stale ``version``) raises ``Conflict``; a crash rolls
    everything back and leaves the job FAILED with a message.
    """
    require_capability(actor, job.scope_path, EDIT)
    if mode not in ImportMode.values:
        raise ValidationFailed({"mode": str(MODE_INVALID)})
    _require_mapped(job)
    pipeline: Pipeline | None = None
    try:
        try:
            with transaction.atomic():
                locked = ImportJob.objects.select_for_update().select_related("community").get(pk=job.pk)
                check_version(locked, version)
                if locked.status == ImportStatus.IMPORTED:
                    raise Conflict(JOB_ALREADY_IMPORTED)
                pipeline = Pipeline(job=locked, actor=actor, writing=True,
                                    stop_writing_on_error=mode == ImportMode.ALL_OR_NOTHING)
                counts = pipeline.run()
                if mode == ImportMode.ALL_OR_NOTHING and counts.error_rows:
                    raise _Rollback()
                _finish(locked, actor=actor, mode=mode, counts=counts, status=ImportStatus.IMPORTED)
                _save_errors(locked, pipeline.errors())
            return locked
        except _Rollback:
            assert pipeline is not None  # noqa: S101
            with transaction.atomic():
                locked = ImportJob.objects.select_for_update().get(pk=job.pk)
                _finish(locked, actor=actor, mode=mode, counts=pipeline.counts, status=ImportStatus.REJECTED)
                _save_errors(locked, pipeline.errors())
            return locked
        except ShequError:
            raise
        except Exception as exc:  # a crash: the transaction is rolled back, the job records the failure
            logger.exception("ledger import %s failed (%s)", job.pk, type(exc).__name__)
            with transaction.atomic():
                locked = ImportJob.objects.select_for_update().get(pk=job.pk)
                locked.status, locked.mode = ImportStatus.FAILED, mode
                locked.failure = str(IMPORT_FAILED).format(kind=type(exc).__name__)[:500]
                locked.finished_at = timezone.now()
                bump_version(locked)
                locked.save()
                audit_record(actor=actor, action=AuditAction.IMPORT, obj=locked, object_repr=locked.filename[:200],
                             outcome="failed", changes={"source": locked.source, "filename": locked.filename,
                                                        "mode": mode})
            return locked
    finally:
        if pipeline is not None:
            pipeline.close()


def _finish(job: ImportJob, *, actor: Any, mode: str, counts: Counts, status: str) -> None:
    _apply_counts(job, counts)
    if status == ImportStatus.REJECTED:  # nothing was written
        job.created_count = job.enriched_count = job.unchanged_count = job.conflict_count = 0
    job.status, job.mode, job.failure = status, mode, ""
    job.finished_at = timezone.now()
    bump_version(job)
    job.save()
    audit_record(
        actor=actor, action=AuditAction.IMPORT, obj=job, object_repr=job.filename[:200],
        outcome="success" if status == ImportStatus.IMPORTED else "rejected",
        changes={"source": job.source, "filename": job.filename, "mode": mode, "rows": counts.total,
                 "error_rows": counts.error_rows, "created": job.created_count, "enriched": job.enriched_count,
                 "unchanged": job.unchanged_count, "conflicts": job.conflict_count},
    )


# --- Error workbook and file retention -----------------------------------------------------------


def error_workbook(job: ImportJob) -> bytes:
    """The rows that had errors, as an .xlsx: the header, the original cells (problem cells red) and a
    last column "错误说明" with "列X 表头：消息" per problem. Fixed and uploaded again, it imports."""
    import io

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    red = PatternFill(start_color="FFFFC7CE", end_color="FFFFC7CE", fill_type="solid")
    bold = Font(bold=True)
    skip = {i for i, h in enumerate(job.headers) if h == cols.ERROR_COLUMN}
    keep = [i for i in range(len(job.headers)) if i not in skip]
    letters = {cols.column_letter(i): i for i in range(len(job.headers))}
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("错误行")
    header_cells = []
    for text in [*(job.headers[i] for i in keep), cols.ERROR_COLUMN]:
        c = WriteOnlyCell(sheet, value=text)
        c.font = bold
        header_cells.append(c)
    sheet.append(header_cells)
    errors = ImportRowError.objects.filter(job=job).order_by("row", "id").values_list("row", "column", "header",
                                                                                        "message")
    error_iter = iter(errors.iterator(chunk_size=2000))
    pending = next(error_iter, None)
    with _clear_file(job) as path:
        rows = readers.data_rows(path, kind=_kind_of_stored(job.stored_name), sheet=job.sheet,
                                 header_row=job.header_row)
        for number, cells in rows:
            while pending is not None and pending[0] < number:
                pending = next(error_iter, None)
            if pending is None:
                break
            if pending[0] != number:
                continue
            problems = []
            while pending is not None and pending[0] == number:
                problems.append(pending)
                pending = next(error_iter, None)
            bad_columns = {letters[p[1]] for p in problems if p[1] in letters}
            out = []
            for i in keep:
                c = WriteOnlyCell(sheet, value=cells[i] if i < len(cells) else None)
                if i in bad_columns:
                    c.fill = red
                out.append(c)
            note = "；".join(f"列{p[1]} {p[2]}：{p[3]}" if p[1] else p[3] for p in problems)
            out.append(WriteOnlyCell(sheet, value=note))
            sheet.append(out)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_files_purge(*, older_than: dt.timedelta = FILE_RETENTION) -> int:
    """Delete the encrypted ledger files of jobs older than ``older_than``; returns how many."""
    cutoff = timezone.now() - older_than
    removed = 0
    for job in ImportJob.objects.filter(created_at__lt=cutoff).exclude(stored_name="").only("pk", "stored_name"):
        _media_path(job.stored_name).unlink(missing_ok=True)
        ImportJob.objects.filter(pk=job.pk).update(stored_name="")
        removed += 1
    return removed


def import_job_errors_export(*, actor: Any, job: ImportJob) -> bytes:
    """The error workbook for a user: it holds rows of the uploaded ledger, so the download is audited."""
    require_capability(actor, job.scope_path, EDIT)
    data = error_workbook(job)
    audit_record(actor=actor, action=AuditAction.EXPORT, obj=job, object_repr=job.filename[:200],
                 changes={"what": "import_errors", "rows": job.error_rows})
    return data
