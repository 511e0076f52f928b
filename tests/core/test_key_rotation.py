"""Rotating the data key keeps every value readable and every exact lookup working."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from shequ.registry import selectors
from shequ.registry.models import Person
from tests import factories as f


def test_rotation_re_encrypts_and_keeps_lookups(settings, actors, tree):
    number = f.id_number()
    person = f.person(tree.a1_unit, id_number=number, phone="13812345678")
    old_key = settings.SHEQU_DATA_KEY

    settings.SHEQU_INDEX_KEY = old_key
    settings.SHEQU_DATA_KEY = Fernet.generate_key().decode()
    settings.SHEQU_DATA_KEYS_OLD = [old_key]
    call_command("rotate_data_key", stdout=open("/dev/null", "w"))  # noqa: SIM115

    settings.SHEQU_DATA_KEYS_OLD = []  # the old key is gone: everything must read with the new one
    person = Person.objects.get(pk=person.pk)
    assert (person.id_number, person.phone) == (number, "13812345678")
    found = selectors.person_list(actor=actors.worker_a1, filters=selectors.PersonFilter(id_number=number))
    assert list(found) == [person]
    with connection.cursor() as c:
        c.execute("SELECT id_number FROM registry_person WHERE id = %s", [person.pk])
        stored = c.fetchone()[0]
    assert Fernet(settings.SHEQU_DATA_KEY.encode()).decrypt(stored.encode()).decode() == number


def test_rotation_refuses_without_a_stable_index_key(settings, tree):
    settings.SHEQU_INDEX_KEY = ""
    settings.SHEQU_DATA_KEYS_OLD = [settings.SHEQU_DATA_KEY]
    settings.SHEQU_DATA_KEY = Fernet.generate_key().decode()
    with pytest.raises(CommandError, match="SHEQU_INDEX_KEY"):
        call_command("rotate_data_key")
