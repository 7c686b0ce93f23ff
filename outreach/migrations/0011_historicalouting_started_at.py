
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('outreach', '0010_merge_started_at_and_history'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalouting',
            name='started_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='started'),
        ),
    ]
