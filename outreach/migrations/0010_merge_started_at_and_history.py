
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('outreach', '0006_outing_started_at'),
        ('outreach', '0009_merge_rollups_security_and_history'),
    ]

    operations = [
    ]
