"""Personal data (个人信息): validation, encryption at rest, blind index, masking.

* ID numbers (公民身份号码, GB 11643-1999) are checked by their ISO 7064 MOD 11-2 check digit, their
  region prefix and their embedded birth date.
* Encrypted values are stored with Fernet (AES-128-CBC + HMAC-SHA256) under ``SHEQU_DATA_KEY``;
  ``SHEQU_DATA_KEYS_OLD`` keeps earlier keys readable while a key is being rotated.
* A blind index (keyed HMAC-SHA256 under a key derived from the data key) allows exact lookup by a
  value without storing it: a dump of the database holds no ID number or phone in clear.
* Masking follows QUALITY §5: name 张*, phone 138****5678, ID number 31**************2X (never the
  birth-date digits), address down to the building.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import struct
import time
from dataclasses import dataclass
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.translation import gettext_lazy as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# Province-level prefixes of the national division code (GB/T 2260), incl. 71 台湾, 81 香港, 82 澳门.
PROVINCE_PREFIXES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)

ID_NUMBER_LENGTH = _("身份证号应为18位：前17位为数字，最后一位为数字或X。")
ID_NUMBER_CHECKSUM = _("身份证号校验位不正确，请核对是否录入有误。")
ID_NUMBER_REGION = _("身份证号前两位不是有效的省级行政区划代码。")
ID_NUMBER_BIRTH_DATE = _("身份证号中的出生日期（第7至14位）不是有效日期。")
ID_NUMBER_BIRTH_MISMATCH = _("出生日期与身份证号中的出生日期不一致。")
ID_NUMBER_SEX_MISMATCH = _("性别与身份证号第17位所示性别不一致。")
PHONE_INVALID = _("电话号码格式不正确：手机号为以1开头的11位数字，固定电话为区号加7至8位号码。")


class PiiError(ValueError):
    """A personal-data value is malformed; ``message`` is ready for the user."""

    def __init__(self, message: object) -> None:
        self.message = message
        super().__init__(str(message))


# --- ID numbers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdNumberFacts:
    region_code: str
    birth_date: dt.date
    sex: str  # "male" | "female"


def id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def normalise_id_number(raw: str) -> str:
    return re.sub(r"\s+", "", raw or "").upper()


def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdNumberFacts:
    """Validate an 18-digit ID number and return what it states; raise ``PiiError`` otherwise."""
    value = normalise_id_number(raw)
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise PiiError(ID_NUMBER_LENGTH)
    if value[:2] not in PROVINCE_PREFIXES:
        raise PiiError(ID_NUMBER_REGION)
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise PiiError(ID_NUMBER_BIRTH_DATE) from exc
    today = today or dt.date.today()
    if birth.year < 1890 or birth > today:
        raise PiiError(ID_NUMBER_BIRTH_DATE)
    if id_check_char(value[:17]) != value[17]:
        raise PiiError(ID_NUMBER_CHECKSUM)
    return IdNumberFacts(region_code=value[:6], birth_date=birth, sex="male" if int(value[16]) % 2 else "female")


def make_id_number(*, region_code: str, birth_date: dt.date, sequence: int, sex: str) -> str:
    """Build a valid ID number (for demo data and tests): 3-digit sequence, odd for men."""
    seq = sequence % 500 * 2 + (1 if sex == "male" else 0)
    first17 = f"{region_code}{birth_date:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


# --- Phones -------------------------------------------------------------------------------------

MOBILE_RE = re.compile(r"1[3-9]\d{9}")
LANDLINE_RE = re.compile(r"0\d{2,3}-?\d{7,8}")


def normalise_phone(raw: str) -> str:
    """Return the canonical form of a phone number or raise ``PiiError``.

    Mobile numbers become 11 digits (a +86/0086 prefix dropped); landlines keep ``区号-号码``.
    """
    value = re.sub(r"[\s()（）]", "", raw or "")
    value = re.sub(r"^(\+86|0086)-?", "", value)
    if MOBILE_RE.fullmatch(value):
        return value
    if LANDLINE_RE.fullmatch(value):
        digits = value.replace("-", "")
        area_len = 3 if digits[1] in "12" else 4
        return f"{digits[:area_len]}-{digits[area_len:]}"
    raise PiiError(PHONE_INVALID)


# --- Encryption and blind index -----------------------------------------------------------------


@lru_cache(maxsize=4)
def _fernet(primary: str, old: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(primary.encode()), *(Fernet(k.encode()) for k in old)])


@lru_cache(maxsize=4)
def _index_key(primary: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"shequ", info=b"shequ blind index v1").derive(
        primary.encode()
    )


def _keys() -> tuple[str, tuple[str, ...]]:
    return settings.SHEQU_DATA_KEY, tuple(settings.SHEQU_DATA_KEYS_OLD)


def encrypt(value: str) -> str:
    primary, old = _keys()
    return _fernet(primary, old).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    primary, old = _keys()
    try:
        return _fernet(primary, old).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # wrong key: fail loudly, never show ciphertext as data
        raise RuntimeError("personal data cannot be decrypted with the configured SHEQU_DATA_KEY") from exc


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed hash of a normalised value; ``purpose`` separates the id, phone and tag index spaces."""
    key = _index_key(getattr(settings, "SHEQU_INDEX_KEY", "") or settings.SHEQU_DATA_KEY)
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()[:40]


class BulkFernet:
    """Fernet tokens (spec: version 0x80, timestamp, IV, AES-128-CBC, HMAC-SHA256) for many values at once.

    ``cryptography``'s Fernet builds a cipher, a padder and an HMAC object per value (~13 µs); here
    one AES-ECB context runs the CBC chain of all values of a chunk block by block, so a value costs
    about a quarter of that. The tokens are ordinary Fernet tokens: ``pii.decrypt`` reads them.
    """

    def __init__(self, key: str, *, at: int) -> None:
        raw = base64.urlsafe_b64decode(key)
        self.signing_key, encryption_key = raw[:16], raw[16:]
        # ECB over single blocks is how CBC is computed here: each block is XORed with the previous one first.
        self.ecb = Cipher(algorithms.AES(encryption_key), modes.ECB()).encryptor()  # noqa: S305
        self.header = b"\x80" + struct.pack(">Q", at)

    def encrypt_many(self, values: list[str]) -> list[str]:
        out = [""] * len(values)
        groups: dict[int, list[tuple[int, bytes]]] = {}
        for i, value in enumerate(values):
            if value:
                data = value.encode()
                pad = 16 - len(data) % 16
                padded = data + bytes([pad]) * pad
                groups.setdefault(len(padded) // 16, []).append((i, padded))
        for blocks, members in groups.items():
            n = len(members)
            ivs = os.urandom(16 * n)
            previous = ivs
            rounds = []
            for b in range(blocks):
                plain = b"".join(p[16 * b:16 * b + 16] for _i, p in members)
                mixed = (int.from_bytes(plain, "big") ^ int.from_bytes(previous, "big")).to_bytes(16 * n, "big")
                previous = self.ecb.update(mixed)
                rounds.append(previous)
            header, key = self.header, self.signing_key
            for k, (i, _padded) in enumerate(members):
                body = header + ivs[16 * k:16 * k + 16] + b"".join(r[16 * k:16 * k + 16] for r in rounds)
                out[i] = base64.urlsafe_b64encode(body + hmac.digest(key, body, "sha256")).decode()
        return out


class Ciphertext(str):
    """A value already encrypted (by ``encrypt_many``): ``EncryptedTextField`` stores it as it is.

    Bulk writers encrypt a whole batch at once and hand the ORM these, instead of paying for one
    Fernet call per value inside ``get_prep_value``.
    """

    __slots__ = ()


def encrypt_many(values: list[str]) -> list[str]:
    """``encrypt`` of many values at once (bulk imports and generators); empty values stay empty."""
    return BulkFernet(settings.SHEQU_DATA_KEY, at=int(time.time())).encrypt_many(values)


def blind_index_many(values: list[str], *, purpose: str) -> list[str]:
    """``blind_index`` of many values with the key derived once."""
    key = _index_key(getattr(settings, "SHEQU_INDEX_KEY", "") or settings.SHEQU_DATA_KEY)
    return [hmac.digest(key, f"{purpose}\x00{v}".encode(), "sha256").hex()[:40] for v in values]


# --- Masking --------------------------------------------------------------------------------------


def mask_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        return ""
    if name.isascii():
        return name[0] + "*" * 3
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str) -> str:
    if not phone:
        return ""
    if MOBILE_RE.fullmatch(phone):
        return f"{phone[:3]}****{phone[-4:]}"
    area, _sep, rest = phone.partition("-")
    return f"{area}-****{rest[-2:]}" if rest else "*" * (len(phone) - 2) + phone[-2:]


def mask_id_number(value: str) -> str:
    """Two leading and two trailing characters: at most 4 digits, never the birth date."""
    if not value:
        return ""
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


def mask_address(parts: list[str]) -> str:
    """Join address parts down to the building; the room is never shown masked or unmasked."""
    return "".join(parts)


MASKERS = {"name": mask_name, "phone": mask_phone, "id_number": mask_id_number}
