"""Every personal-data field is in the inventory (QUALITY §6)."""

from django.apps import apps

from shequ.core.fields import EncryptedTextField
from shequ.core.inventory import INVENTORY, inventory_keys

PERSONAL_NAMES = {"name", "phone", "id_number", "birth_date", "contact_name", "contact_phone", "display_name", "email"}
# Models whose "name" is the name of a thing, not of a person.
NOT_PEOPLE = {
    "cases.CaseCategory",
    "cases.Device",
    "cases.AlertRule",
    "cases.Holiday",
    "core.Attachment",
    "registry.Place",
    "registry.Grid",
    "registry.Facility",
    "registry.CareTag",
    "registry.Organisation",
    "accounts.Department",
    "accounts.ApiToken",
    "ledgers.ImportTemplate",
}


def test_every_encrypted_or_personal_looking_field_is_listed():
    keys = inventory_keys()
    missing = []
    for model in apps.get_models():
        label = f"{model._meta.app_label}.{model.__name__}"
        if not model.__module__.startswith("shequ."):
            continue
        for field in model._meta.get_fields():
            if not hasattr(field, "attname"):
                continue
            personal = isinstance(field, EncryptedTextField) or (
                field.name in PERSONAL_NAMES and not (field.name == "name" and label in NOT_PEOPLE)
            )
            if personal and (label, field.name) not in keys:
                missing.append(f"{label}.{field.name}")
    assert missing == []


def test_every_entry_states_purpose_basis_protection_and_retention():
    for item in INVENTORY:
        assert item.purpose and item.legal_basis and item.protection and item.retention, item


def test_every_listed_field_exists():
    for item in INVENTORY:
        model = apps.get_model(item.model)
        assert model._meta.get_field(item.field)
