"""Trigram indexes for the persons page's search and the duplicate check (PostgreSQL only), and an
index for the search by birth year.

The search matches UPPER(alias), UPPER(first_name) and UPPER(last_name) with LIKE '%…%' (Django's
icontains) and the duplicate check with pg_trgm's `%` operator on the same expressions: GIN indexes
with gin_trgm_ops answer both. SQLite has no pg_trgm: there the migration does nothing and the
selectors fall back to a scan (encounters.selectors.persons_listed, persons_similar). Creating the
extension needs a role allowed to (pg_trgm is a trusted extension from PostgreSQL 13: the database
owner may).
"""

from django.db import migrations, models

COLUMNS = ("alias", "first_name", "last_name")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS person_{column}_trgm ON encounters_person "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS person_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("encounters", "0009_history_names_refuse_invisible_characters")]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
        # The search by birth year (both databases).
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["team", "birth_year"], name="person_team_birth_year"),
        ),
    ]
