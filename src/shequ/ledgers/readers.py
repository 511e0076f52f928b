"""Streaming readers of ledger files (.xlsx, .csv) and their encrypted storage.

Rows are yielded one at a time as ``(row_number, cells)`` where ``row_number`` is the row as the
spreadsheet shows it, so memory does not grow with the file. Uploaded ledgers hold personal data:
they are stored encrypted in chunks (one Fernet token per chunk) and decrypted to a private
temporary file only while being read.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import os
import struct
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext_lazy as _

from shequ.core import pii
from shequ.ledgers.columns import cell_text, column_letter, known_header_count

XLSX = "xlsx"
CSV = "csv"
HEADER_SEARCH_ROWS = 10
CHUNK = 1024 * 1024

FILE_TYPE_INVALID = _("只能上传 Excel（.xlsx）或 CSV 文件。")
FILE_UNREADABLE = _("文件无法读取，可能已损坏：请用 Excel 另存为 .xlsx 后重新上传。")
FILE_EMPTY = _("文件中没有数据。")
SHEET_NOT_FOUND = _("找不到名为“{name}”的工作表。")


class LedgerFileError(ValueError):
    def __init__(self, message: Any) -> None:
        self.message = str(message)
        super().__init__(self.message)


def sniff_kind(head: bytes) -> str | None:
    """``xlsx`` for a zip container, ``csv`` for text (UTF-8 or GB18030), else ``None``."""
    if head.startswith(b"PK\x03\x04"):
        return XLSX
    if not head or b"\x00" in head:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            # Not final: a multi-byte character may be cut at the end of the sample.
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return CSV
        except UnicodeDecodeError:
            continue
    return None


# --- Encrypted storage ---------------------------------------------------------------------------------


def store_encrypted(source: IO[bytes], target: Path) -> tuple[int, str]:
    """Copy ``source`` into ``target`` encrypted, chunk by chunk; return (size, sha256 of the clear bytes)."""
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        while True:
            chunk = source.read(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            digest.update(chunk)
            token = _encrypt(chunk)
            out.write(struct.pack(">I", len(token)))
            out.write(token)
    return size, digest.hexdigest()


def _encrypt(chunk: bytes) -> bytes:
    from django.conf import settings

    primary, old = settings.SHEQU_DATA_KEY, tuple(settings.SHEQU_DATA_KEYS_OLD)
    return pii._fernet(primary, old).encrypt(chunk)


def _decrypt(token: bytes) -> bytes:
    from django.conf import settings

    primary, old = settings.SHEQU_DATA_KEY, tuple(settings.SHEQU_DATA_KEYS_OLD)
    return pii._fernet(primary, old).decrypt(token)


@contextlib.contextmanager
def decrypted_copy(stored: Path, *, suffix: str) -> Iterator[Path]:
    """A private temporary clear copy of a stored ledger, removed on exit."""
    fd, name = tempfile.mkstemp(prefix="shequ-ledger-", suffix=f".{suffix}")
    try:
        with os.fdopen(fd, "wb") as out, open(stored, "rb") as src:
            while True:
                size_bytes = src.read(4)
                if not size_bytes:
                    break
                (length,) = struct.unpack(">I", size_bytes)
                out.write(_decrypt(src.read(length)))
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


# --- Rows -------------------------------------------------------------------------------------------------


def iter_rows(path: Path, *, kind: str, sheet: str = "") -> Iterator[tuple[int, list[Any]]]:
    """Every row as ``(row_number, cells)``; trailing empty cells trimmed, empty rows yielded as ``[]``."""
    if kind == XLSX:
        yield from _xlsx_rows(path, sheet=sheet)
    elif kind == CSV:
        yield from _csv_rows(path)
    else:
        raise LedgerFileError(FILE_TYPE_INVALID)


def _trim(cells: Any) -> list[Any]:
    row = list(cells)
    while row and (row[-1] is None or (isinstance(row[-1], str) and not row[-1].strip())):
        row.pop()
    return row


def _xlsx_rows(path: Path, *, sheet: str) -> Iterator[tuple[int, list[Any]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise LedgerFileError(FILE_UNREADABLE) from exc
    try:
        if sheet:
            if sheet not in workbook.sheetnames:
                raise LedgerFileError(str(SHEET_NOT_FOUND).format(name=sheet))
            worksheet = workbook[sheet]
        else:
            worksheet = workbook.worksheets[0]
        # A read-only sheet yields every row from the first, gaps filled with empty cells.
        for number, cells in enumerate(worksheet.iter_rows(values_only=True), start=1):
            yield number, _trim(cells)
    finally:
        workbook.close()


def csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes so, else GB18030 (what Chinese Excel writes)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as handle:
        try:
            while chunk := handle.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    encoding = csv_encoding(path)
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;") if sample else csv.excel
        except csv.Error:
            dialect = csv.excel
        for number, cells in enumerate(csv.reader(handle, dialect), start=1):
            yield number, _trim(cells)


# --- Header -----------------------------------------------------------------------------------------------


@dataclass
class Header:
    row: int
    headers: list[str] = field(default_factory=list)


def display_headers(cells: list[Any]) -> list[str]:
    """Headers as shown and stored: unique (a repeated one gets "（2）"), a blank one named by its column."""
    seen: dict[str, int] = {}
    headers = []
    for index, cell in enumerate(cells):
        text = cell_text(cell) or f"{column_letter(index)}列"
        text = text[:100]
        if text in seen:
            seen[text] += 1
            text = f"{text}（{seen[text]}）"
        else:
            seen[text] = 1
        headers.append(text)
    return headers


def find_header(rows: Iterator[tuple[int, list[Any]]]) -> Header:
    """The first row within the first ten whose cells name at least two known columns.

    Ledgers often carry a title row ("XX社区高龄老人名册") above the header; without a recognisable
    header the first non-empty row is taken and the user maps it by hand.
    """
    first: tuple[int, list[Any]] | None = None
    for number, cells in rows:
        if number > HEADER_SEARCH_ROWS:
            break
        if not any(cell_text(c) for c in cells):
            continue
        if first is None:
            first = (number, cells)
        if known_header_count(cells) >= 2:
            return Header(row=number, headers=display_headers(cells))
    if first is None:
        raise LedgerFileError(FILE_EMPTY)
    return Header(row=first[0], headers=display_headers(first[1]))


def read_header(path: Path, *, kind: str, sheet: str = "") -> Header:
    rows = iter_rows(path, kind=kind, sheet=sheet)
    try:
        return find_header(rows)
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()


def data_rows(path: Path, *, kind: str, sheet: str, header_row: int) -> Iterator[tuple[int, list[Any]]]:
    """The rows below the header that hold anything."""
    for number, cells in iter_rows(path, kind=kind, sheet=sheet):
        if number <= header_row:
            continue
        if any(cell_text(c) for c in cells):
            yield number, cells


def batched(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of up to ``size`` items of ``rows`` (``itertools.batched`` from Python 3.12 on)."""
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


# Files at least this big are read in a helper process (see ``batched_data_rows``).
PREFETCH_MIN_BYTES = 256 * 1024


def batched_data_rows(
    path: Path, *, kind: str, sheet: str, header_row: int, size: int
) -> Iterator[list[tuple[int, list[Any]]]]:
    """``data_rows`` in batches of ``size``. A large file is read in a helper process, so that reading
    (openpyxl is pure Python) runs on one core while the import validates and writes on the other.

    The helper sends batches through a pipe; a full pipe blocks it, so at most a batch or two are in
    flight and memory stays flat. It starts from a fork server (a fresh process without the caller's
    threads) and imports nothing from Django that needs set-up; any failure in it is reported as an
    unreadable file.
    """
    if path.stat().st_size < PREFETCH_MIN_BYTES:
        yield from batched(data_rows(path, kind=kind, sheet=sheet, header_row=header_row), size)
        return
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_read_in_helper, args=(sender, str(path), kind, sheet, header_row, size),
                              daemon=True)
    process.start()
    sender.close()
    try:
        while True:
            try:
                message = receiver.recv()
            except EOFError as exc:  # the helper died without a word
                raise LedgerFileError(FILE_UNREADABLE) from exc
            if message is None:
                break
            if isinstance(message, dict):
                raise LedgerFileError(FILE_UNREADABLE)
            yield message
    finally:
        receiver.close()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()


def _read_in_helper(sender: Any, path: str, kind: str, sheet: str, header_row: int, size: int) -> None:
    try:
        for batch in batched(data_rows(Path(path), kind=kind, sheet=sheet, header_row=header_row), size):
            sender.send(batch)
        sender.send(None)
    except BrokenPipeError:  # the import stopped reading (it failed or was rolled back)
        pass
    except Exception as exc:  # noqa: BLE001 - reported to the importer as an unreadable file
        with contextlib.suppress(BrokenPipeError):
            sender.send({"error": type(exc).__name__})
    finally:
        sender.close()


def kind_of(path: Path) -> str | None:
    with open(path, "rb") as handle:
        return sniff_kind(handle.read(2048))
