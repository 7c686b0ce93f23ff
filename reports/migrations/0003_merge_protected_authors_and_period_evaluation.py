
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0002_authors_are_protected'),
        ('reports', '0002_period_evaluation'),
    ]

    operations = [
    ]
