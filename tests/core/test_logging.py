"""No personal data in application logs (QUALITY §7)."""

import logging

from shequ.core.logging import PiiRedactingFilter, redact
from tests import factories as f


def test_id_numbers_and_phones_are_redacted_from_log_records(caplog):
    number = f.id_number()
    logger = logging.getLogger("shequ.test")
    logger.addFilter(PiiRedactingFilter())
    with caplog.at_level(logging.INFO, logger="shequ.test"):
        logger.info("imported %s with phone %s", number, "13812345678")
    text = caplog.text
    assert number not in text and "13812345678" not in text
    assert "[身份证号已隐藏]" in text and "[手机号已隐藏]" in text


def test_the_filter_is_on_the_configured_handler():
    from django.conf import settings

    assert settings.LOGGING["handlers"]["console"]["filters"] == ["pii"]


def test_redact_leaves_other_numbers_alone():
    assert redact("订单 2026112301 共 3 件") == "订单 2026112301 共 3 件"


def test_what_the_configured_handler_writes_holds_no_personal_data(actors, client):
    """Django logs every 404 with its path; a path carrying a phone and an ID number comes out redacted."""
    import io

    handler = next(h for h in logging.getLogger().handlers if any(isinstance(x, PiiRedactingFilter) for x in h.filters))
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        number = f.id_number()
        client.force_login(actors.worker_a1)
        response = client.get(f"/no-such-page/13812345678/{number}/")
    finally:
        handler.setStream(old)
    assert response.status_code == 404
    written = stream.getvalue()
    assert "Not Found" in written
    assert "13812345678" not in written and number not in written
    assert "[手机号已隐藏]" in written
