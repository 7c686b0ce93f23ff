"""python manage.py legacy_statistics_template FILE

Writes the legacy statistics template (header and two example rows) as .csv
or .xlsx; the XLSX has a second sheet that explains each column. The files in
docs/ were made with this command.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from outreach.resources import TableError, table_format
from reports.legacy import write_template


class Command(BaseCommand):
    help = "Write the legacy statistics template as CSV or XLSX."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .csv or .xlsx file to write.")

    def handle(self, *args, file, **options):
        try:
            table_format(file)
        except TableError as error:
            raise CommandError(str(error)) from None
        write_template(file)
        self.stdout.write(_("Wrote %(file)s.") % {"file": file})
