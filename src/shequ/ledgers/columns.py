"""The registry fields a ledger (台账) column may fill, their Chinese synonyms and how cell values are read.

A ledger's header row is matched against the synonyms to suggest a mapping; a remembered
``ImportTemplate`` with the same header signature wins over the suggestion. Cell values come as
strings, numbers, dates or ``None``: the ``parse_*`` helpers turn them into registry values or raise
``CellError`` with a Chinese message for the error report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from shequ.registry.choices import Relation, ResidenceType, Sex

# The extra column of an error workbook: ignored when the fixed workbook is uploaded again.
ERROR_COLUMN = "错误说明"


@dataclass(frozen=True)
class Column:
    field: str
    label: Any
    synonyms: tuple[str, ...]


COLUMNS: tuple[Column, ...] = (
    Column("name", _("姓名"), ("姓名", "名字", "居民姓名", "人员姓名", "老人姓名")),
    Column("id_number", _("身份证号"), ("身份证号", "身份证号码", "公民身份号码", "证件号码", "身份证", "证件号")),
    Column("sex", _("性别"), ("性别",)),
    Column("birth_date", _("出生日期"), ("出生日期", "出生年月", "出生年月日", "生日")),
    Column("phone", _("联系电话"), ("联系电话", "手机号码", "手机号", "电话", "联系方式", "手机", "电话号码")),
    Column("residence_type", _("人口类型"), ("人口类型", "户籍类型", "户籍性质", "人员类型")),
    Column("compound", _("小区"), ("小区", "小区名称", "所在小区")),
    Column("building", _("楼号"), ("楼号", "楼栋", "幢", "楼", "幢号", "栋号", "楼栋号")),
    Column("room", _("室号"), ("室号", "房号", "门牌", "门牌号", "室", "房间号")),
    Column("address", _("住址（小区+楼号+室号）"), ("住址", "地址", "居住地址", "现住址", "家庭住址", "居住地")),
    Column("place_code", _("房屋编码"), ("房屋编码", "房屋代码", "地址编码")),
    Column("household_number", _("户号"), ("户号", "户编号")),
    Column("relation", _("与户主关系"), ("与户主关系", "户主关系", "与户主的关系", "关系")),
    Column("tags", _("关爱标签"), ("标签", "人员类别", "关爱标签", "人员类型标签", "类别")),
    Column("notes", _("备注"), ("备注", "说明")),
)
FIELDS: dict[str, Column] = {c.field: c for c in COLUMNS}
ADDRESS_PARTS = ("compound", "building", "room")

DATE_INVALID = _("日期格式不正确：请填写如 1950-03-01、1950/3/1、19500301 或 1950年3月1日。")
SEX_INVALID = _("性别只能填写“男”或“女”。")
RELATION_INVALID = _("与户主关系“{value}”无法识别：可填写 {choices}。")
RESIDENCE_INVALID = _("人口类型“{value}”无法识别：可填写 户籍、常住 或 流动。")
TAG_UNKNOWN = _("未知的关爱标签：{names}。")
TEXT_TOO_LONG = _("内容过长（最多{limit}个字）。")


class CellError(ValueError):
    def __init__(self, message: Any) -> None:
        self.message = str(message)
        super().__init__(self.message)


def normalise_header(value: Any) -> str:
    """A header as compared: no spaces, stars or colons, no bracketed hint ("身份证号（18位）")."""
    text = "" if value is None else str(value)
    text = re.sub(r"[（(【\[].*?[)）】\]]", "", text)
    return re.sub(r"[\s*＊:：]", "", text).lower()


_SYNONYMS: dict[str, str] = {normalise_header(s): c.field for c in COLUMNS for s in c.synonyms}


def field_for_header(header: Any) -> str:
    """The field a header names by synonym, or ``""``."""
    return _SYNONYMS.get(normalise_header(header), "")


def known_header_count(cells: Iterable[Any]) -> int:
    return sum(1 for cell in cells if field_for_header(cell))


def header_signature(headers: Sequence[str]) -> str:
    """sha256 of the normalised headers (the error-report column left out), to find a saved template."""
    names = [normalise_header(h) for h in headers if normalise_header(h) != normalise_header(ERROR_COLUMN)]
    return hashlib.sha256("\x1f".join(names).encode()).hexdigest()


def suggest_mapping(headers: Sequence[str]) -> dict[str, str]:
    """Header → field by synonym; each field is used once (the first column naming it wins)."""
    used: set[str] = set()
    mapping: dict[str, str] = {}
    for header in headers:
        field = field_for_header(header)
        if field and field not in used and header != ERROR_COLUMN:
            used.add(field)
            mapping[header] = field
        else:
            mapping[header] = ""
    return mapping


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA (spreadsheet column letters)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- Cell values ------------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious ``.0`` (Excel stores 13812345678 as a float)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).split())


_DATE_PATTERNS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = int(value)
        if 19000101 <= number <= 21001231:  # 19500301 typed as a number
            return parse_date(str(number))
        if 1 <= number <= 80000:  # an Excel serial date that lost its format
            return EXCEL_EPOCH + dt.timedelta(days=number)
        raise CellError(DATE_INVALID)
    text = cell_text(value)
    if not text:
        return None
    text = text.split(" ")[0] if re.fullmatch(r"\S+ \d{1,2}:\d{2}(:\d{2})?", text) else text
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            try:
                return dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError as exc:
                raise CellError(DATE_INVALID) from exc
    raise CellError(DATE_INVALID)


_SEX = {"男": Sex.MALE, "女": Sex.FEMALE, "男性": Sex.MALE, "女性": Sex.FEMALE, "male": Sex.MALE, "female": Sex.FEMALE}


def parse_sex(value: Any) -> str:
    text = cell_text(value)
    if not text:
        return ""
    try:
        return str(_SEX[text.lower()])
    except KeyError as exc:
        raise CellError(SEX_INVALID) from exc


def _by_label(choices: Any) -> dict[str, str]:
    table: dict[str, str] = {}
    for value, label in choices.choices:
        table[str(label)] = value
        table[value] = value
        for part in str(label).split("/"):
            table[part] = value
    return table


_RELATION_EXTRA = {
    "本人": Relation.HEAD, "妻": Relation.SPOUSE, "夫": Relation.SPOUSE, "妻子": Relation.SPOUSE,
    "丈夫": Relation.SPOUSE, "子": Relation.CHILD, "女": Relation.CHILD, "儿子": Relation.CHILD,
    "女儿": Relation.CHILD, "父亲": Relation.PARENT, "母亲": Relation.PARENT, "孙子": Relation.GRANDCHILD,
    "孙女": Relation.GRANDCHILD, "儿媳": Relation.CHILD_IN_LAW, "女婿": Relation.CHILD_IN_LAW,
}


def parse_relation(value: Any) -> str:
    text = cell_text(value)
    if not text:
        return ""
    table = {**_by_label(Relation), **{k: str(v) for k, v in _RELATION_EXTRA.items()}}
    if text in table:
        return table[text]
    choices = "、".join(str(label) for _v, label in Relation.choices)
    raise CellError(str(RELATION_INVALID).format(value=text[:20], choices=choices))


def parse_residence_type(value: Any) -> str:
    text = cell_text(value)
    if not text:
        return ""
    table = {
        **_by_label(ResidenceType), "户籍人口": ResidenceType.REGISTERED, "常住人口": ResidenceType.PERMANENT,
        "流动人口": ResidenceType.FLOATING, "外来人口": ResidenceType.FLOATING, "人户分离": ResidenceType.PERMANENT,
    }
    if text in table:
        return str(table[text])
    raise CellError(str(RESIDENCE_INVALID).format(value=text[:20]))


def parse_tags(value: Any, *, vocabulary: Mapping[str, str]) -> list[str]:
    """Care tag slugs from "独居老人、高龄" (names or slugs, separated by 、,;，； or spaces)."""
    text = cell_text(value)
    if not text:
        return []
    names = [n for n in re.split(r"[、,;，；/\s]+", text) if n]
    slugs: list[str] = []
    unknown: list[str] = []
    for name in names:
        slug = vocabulary.get(name)
        if slug is None:
            unknown.append(name)
        elif slug not in slugs:
            slugs.append(slug)
    if unknown:
        raise CellError(str(TAG_UNKNOWN).format(names="、".join(u[:20] for u in unknown)))
    return slugs


def parse_text(value: Any, *, limit: int) -> str:
    text = cell_text(value)
    if len(text) > limit:
        raise CellError(str(TEXT_TOO_LONG).format(limit=limit))
    return text
