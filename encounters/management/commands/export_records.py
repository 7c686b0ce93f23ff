"""python manage.py export_records RESOURCE FILE [--start YYYY-MM-DD] [--end YYYY-MM-DD] [--user EMAIL]

Writes the records the acting user sees as CSV or XLSX (by the file's
extension), in the columns `import_records` reads, so the file imports back
unchanged. `--start`/`--end` (inclusive) select by the record's date: an
encounter's Helsinki date, an outing's date, a referral's referred_on.
The export leaves an audit entry with the number of rows, not the data, and
(for client records) a disclosure entry naming `--recipient` and
`--legal-basis`, and an access-log row for each named person concerned.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from outreach.models import Disclosure
from outreach.resources import TableError, parse_date, table_format, write_table

from ._records import RESOURCES, acting_user


def _date(value: str | None, option: str):
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return parse_date(value)
    except ValueError:
        raise CommandError(_("%(option)s: enter a date as YYYY-MM-DD.") % {"option": option}) from None


class Command(BaseCommand):
    help = "Export records to a CSV or XLSX file that import_records reads back unchanged."

    def add_arguments(self, parser):
        parser.add_argument("resource", choices=sorted(RESOURCES))
        parser.add_argument("file", help="The .csv or .xlsx file to write.")
        parser.add_argument("--start", metavar="YYYY-MM-DD", help="First day (inclusive).")
        parser.add_argument("--end", metavar="YYYY-MM-DD", help="Last day (inclusive).")
        parser.add_argument("--user", metavar="EMAIL", help="Acting user (default: the first superuser).")
        parser.add_argument("--recipient", default="", help="Who receives the file (recorded in the disclosure log).")
        parser.add_argument(
            "--legal-basis",
            choices=Disclosure.LegalBasis.values,
            default=Disclosure.LegalBasis.NOT_RECORDED,
            help="The legal basis of handing the file over (recorded in the disclosure log).",
        )

    def handle(self, *args, resource, file, start, end, user, recipient, legal_basis, **options):
        try:
            table_format(file)
        except TableError as error:
            raise CommandError(str(error)) from None
        start, end = _date(start, "--start"), _date(end, "--end")
        if start and end and end < start:
            raise CommandError(_("--end: the end is before the start."))
        resource_class = RESOURCES[resource]
        if (start or end) and not resource_class.date_field:
            raise CommandError(
                _("%(resource)s have no date to select by: leave out --start and --end.") % {"resource": resource}
            )
        actor = acting_user(user)
        exporter = resource_class(user=actor)
        # The audit entry is written only if the file is.
        with transaction.atomic():
            dataset = exporter.export(
                start=start, end=end, recipient=recipient.strip(), legal_basis=legal_basis, door="command"
            )
            write_table(dataset, file)
        self.stdout.write(_("Exported %(count)s rows to %(file)s.") % {"count": dataset.height, "file": file})
