"""Rules of personal data with numbers in them: GB 11643 check digit, phone shapes, masking (QUALITY §4–5, §10)."""

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shequ.core import pii

# Worked example from GB 11643-1999's appendix: 11010519491231002X.
VALID = "11010519491231002X"


def test_standard_example_passes_and_states_its_facts():
    facts = pii.parse_id_number(VALID)
    assert facts.birth_date == dt.date(1949, 12, 31)
    assert facts.sex == "female"  # 17th digit 2 is even
    assert facts.region_code == "110105"


def test_lowercase_x_and_spaces_are_normalised():
    assert pii.parse_id_number("110105 19491231 002x").birth_date == dt.date(1949, 12, 31)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("110105194912310021", pii.ID_NUMBER_CHECKSUM),  # last digit changed
        ("11010519491231002", pii.ID_NUMBER_LENGTH),  # 17 characters
        ("11010519491231002Y", pii.ID_NUMBER_LENGTH),
        ("99010519491231002X", pii.ID_NUMBER_REGION),
        ("110105194902300020", pii.ID_NUMBER_BIRTH_DATE),  # 30 February
    ],
)
def test_bad_id_numbers_say_what_is_wrong(value, message):
    with pytest.raises(pii.PiiError) as exc:
        pii.parse_id_number(value)
    assert exc.value.message == message


def test_birth_date_in_future_is_refused():
    with pytest.raises(pii.PiiError) as exc:
        pii.parse_id_number(
            pii.make_id_number(region_code="310105", birth_date=dt.date(2030, 1, 1), sequence=1, sex="male"),
            today=dt.date(2026, 1, 1),
        )
    assert exc.value.message == pii.ID_NUMBER_BIRTH_DATE


@given(
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31)),
    seq=st.integers(min_value=0, max_value=10_000),
    sex=st.sampled_from(["male", "female"]),
)
def test_generated_numbers_are_valid_and_round_trip(birth, seq, sex):
    value = pii.make_id_number(region_code="310105", birth_date=birth, sequence=seq, sex=sex)
    facts = pii.parse_id_number(value)
    assert (facts.birth_date, facts.sex) == (birth, sex)


@given(st.integers(min_value=0, max_value=16), st.integers(min_value=0, max_value=9))
def test_any_single_digit_change_is_caught(position, digit):
    original = pii.make_id_number(region_code="310105", birth_date=dt.date(1960, 5, 17), sequence=7, sex="male")
    if original[position] == str(digit):
        return
    changed = original[:position] + str(digit) + original[position + 1 :]
    with pytest.raises(pii.PiiError):
        pii.parse_id_number(changed)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("021-62345678", "021-62345678"),
        ("02162345678", "021-62345678"),
        ("0571-8765432", "0571-8765432"),
    ],
)
def test_phones_are_normalised(raw, canonical):
    assert pii.normalise_phone(raw) == canonical


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "abc", "138123456789", ""])
def test_bad_phones_are_refused(raw):
    with pytest.raises(pii.PiiError) as exc:
        pii.normalise_phone(raw)
    assert exc.value.message == pii.PHONE_INVALID


def test_masks_follow_the_rules():
    assert pii.mask_name("张三") == "张*"
    assert pii.mask_name("欧阳娜娜") == "欧***"
    assert pii.mask_phone("13812345678") == "138****5678"
    masked = pii.mask_id_number(VALID)
    assert masked == "11**************2X"
    assert len(re.findall(r"\d", masked)) <= 4
    assert "19491231" not in masked


def test_encryption_round_trips_and_hides_the_value():
    token = pii.encrypt(VALID)
    assert VALID not in token
    assert pii.decrypt(token) == VALID
    assert pii.encrypt(VALID) != token  # randomised: equal values do not look equal


def test_blind_index_is_stable_keyed_and_separated_by_purpose():
    assert pii.blind_index(VALID, purpose="id") == pii.blind_index(VALID, purpose="id")
    assert pii.blind_index(VALID, purpose="id") != pii.blind_index(VALID, purpose="phone")
    assert VALID not in pii.blind_index(VALID, purpose="id")


def test_old_keys_still_decrypt_during_rotation(settings):
    from cryptography.fernet import Fernet

    old_token = pii.encrypt("13812345678")
    settings.SHEQU_DATA_KEYS_OLD = [settings.SHEQU_DATA_KEY]
    settings.SHEQU_DATA_KEY = Fernet.generate_key().decode()
    assert pii.decrypt(old_token) == "13812345678"


def test_wrong_key_fails_loudly(settings):
    from cryptography.fernet import Fernet

    token = pii.encrypt("13812345678")
    settings.SHEQU_DATA_KEY = Fernet.generate_key().decode()
    settings.SHEQU_DATA_KEYS_OLD = []
    with pytest.raises(RuntimeError):
        pii.decrypt(token)


def test_bulk_encryption_gives_ordinary_fernet_tokens_with_fresh_ivs(settings):
    # given values of several lengths (one to three AES blocks) and an empty one
    values = ["310105194907021234", "13812345678", "", "张" * 20, "13812345678"]
    # when they are encrypted in one go
    tokens = pii.encrypt_many(values)
    # then each token is a standard Fernet token that pii.decrypt reads back
    assert [pii.decrypt(t) if t else "" for t in tokens] == values
    assert tokens[2] == ""
    # and equal values still get different tokens (a fresh IV per value)
    assert tokens[1] != tokens[4]
    # and the blind index in bulk equals the one-by-one index
    assert pii.blind_index_many(values[:2], purpose="id") == [pii.blind_index(v, purpose="id") for v in values[:2]]
