
import outreach.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('encounters', '0008_merge_rollups_security_and_history'),
    ]

    operations = [
        migrations.AlterField(
            model_name='historicalperson',
            name='alias',
            field=models.CharField(blank=True, max_length=100, validators=[outreach.validators.NoInvisibleCharacters()], verbose_name='alias or nickname'),
        ),
        migrations.AlterField(
            model_name='historicalperson',
            name='first_name',
            field=models.CharField(blank=True, max_length=100, validators=[outreach.validators.NoInvisibleCharacters()], verbose_name='first name'),
        ),
        migrations.AlterField(
            model_name='historicalperson',
            name='last_name',
            field=models.CharField(blank=True, max_length=100, validators=[outreach.validators.NoInvisibleCharacters()], verbose_name='last name'),
        ),
    ]
