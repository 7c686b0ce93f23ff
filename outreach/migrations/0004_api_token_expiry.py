import datetime

from django.db import migrations, models

import outreach.models


def expire_existing_keys(apps, schema_editor):
    # Keys made before keys expired count their lifetime from when they were made.
    ApiToken = apps.get_model("outreach", "ApiToken")
    for token in ApiToken.objects.all():
        token.expires_at = token.created_at + datetime.timedelta(days=90)
        token.save(update_fields=["expires_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0003_api_tokens_tally_events"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(default=outreach.models.api_token_expiry, verbose_name="expires"),
        ),
        migrations.RunPython(expire_existing_keys, migrations.RunPython.noop),
    ]
