import pytest
from django.db import connection

from shequ.core.errors import NotFound, ValidationFailed
from shequ.registry import selectors, services
from tests import factories as f


def test_person_scope_and_reveal(actors, tree):
    p = f.person(tree.a1_unit, id_number=f.id_number(), phone="13812345678", tags=["living_alone", "disabled"])
    assert selectors.person_get(actor=actors.worker_a1, person_id=p.pk) == p
    assert selectors.person_get(actor=actors.officer_a, person_id=p.pk) == p
    with pytest.raises(NotFound):
        selectors.person_get(actor=actors.officer_b, person_id=p.pk)
    with pytest.raises(NotFound):
        selectors.person_get(actor=actors.worker_a2, person_id=p.pk)
    assert (
        services.person_reveal(actor=actors.worker_a1, person=p, field="phone", reason="电话回访核实") == "13812345678"
    )
    with pytest.raises(ValidationFailed):
        services.person_reveal(actor=actors.worker_a1, person=p, field="phone", reason="")
    with connection.cursor() as c:
        c.execute("select id_number, phone from registry_person")
        row = c.fetchone()
    assert p.id_number not in row[0] and "13812345678" not in row[1]
