"""QUALITY §11: schemathesis over the whole OpenAPI document of API v1 finds no server error.

The document comes from the app itself; every operation is called in-process (WSGI) with a
district administrator's bearer token against the test database holding the shared place tree
and one record of each kind, and no answer may be a 5xx. Bounded so it stays well under two minutes.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from shequ.api import api
from shequ.wsgi import application
from tests.api_fixtures import *  # noqa: F403

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = application

MAX_EXAMPLES = 10


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Requests go through schemathesis' WSGI client, not Django's test client, so Django's
    request_started/finished signals would close the database connection inside the test's
    transaction (PostgreSQL then answers "the connection is closed"). Django's own test client
    disconnects them the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(settings: Any, actors: Any, records_a1: Any, person_b1: Any, token_for: Any) -> str:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost", "testserver"]
    return token_for(actors.admin)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.data_too_large],
    derandomize=True,
)
def test_no_server_error(case: Any, admin_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=[not_a_server_error])
