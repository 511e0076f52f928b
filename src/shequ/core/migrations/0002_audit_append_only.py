from django.db import migrations


def forwards(apps, schema_editor):
    from shequ.core import guards

    guards.install(schema_editor.connection)


def backwards(apps, schema_editor):
    from shequ.core import guards

    guards.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
