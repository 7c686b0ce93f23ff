
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('outreach', '0007_change_history'),
        ('outreach', '0008_merge_report_rollups_and_security'),
    ]

    operations = [
    ]
