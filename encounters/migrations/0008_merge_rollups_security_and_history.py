
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('encounters', '0007_change_history'),
        ('encounters', '0007_merge_report_rollups_and_security'),
    ]

    operations = [
    ]
