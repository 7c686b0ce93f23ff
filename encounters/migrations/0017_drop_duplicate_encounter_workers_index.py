"""Drop the encounter-workers link table's plain index on encounter_id.

Django gives every foreign key of a many-to-many link table an index, and the
table also has its unique (encounter_id, user_id) index, which starts with the
same column: it answers every lookup by encounter (an encounter's workers, the
workers of a page of encounters, the cascade when an encounter is deleted)
just as well. The second index only cost writes: every logged encounter
updated both, and a million-encounter demo load spent about 0.6 s building it.

The link table is created by Django for `Encounter.workers`, so its fields
cannot say `db_index=False`; the migration state still has the index. A
future migration that alters the link table's encounter_id column would have
to recreate the index first (`reverse_sql` below).
"""

from django.db import migrations

INDEX = "encounters_encounter_workers_encounter_id_cfbca89d"


class Migration(migrations.Migration):
    dependencies = [
        ("encounters", "0016_referral_day_count"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"DROP INDEX {INDEX}",
            reverse_sql=f"CREATE INDEX {INDEX} ON encounters_encounter_workers (encounter_id)",
        ),
    ]
