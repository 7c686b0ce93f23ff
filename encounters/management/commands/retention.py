"""python manage.py retention [--apply]

Applies the retention policy of the settings (RETENTION_ANONYMOUS_NOTES_MONTHS,
RETENTION_PERSON_YEARS, RETENTION_PERSON_ACTION): a dry run that only counts
unless given --apply. Idempotent (a second run finds nothing more to do),
respects legal holds, prints the counts per category and leaves an audit
entry for each run. For cron, e.g. monthly.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from encounters.services import retention_run


class Command(BaseCommand):
    help = "Apply the retention policy (a dry run unless --apply)."

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true", help="Change the records (default: only count).")

    def handle(self, *args, apply, **options):
        try:
            counts = retention_run(apply=apply)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(_("Retention applied.") if apply else _("Dry run: nothing was changed."))
        for category, count in counts.items():
            self.stdout.write(f"{category}: {count}")
