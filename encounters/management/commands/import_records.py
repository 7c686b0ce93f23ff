"""python manage.py import_records RESOURCE FILE [--dry-run] [--user EMAIL]

Imports a CSV or XLSX file of sites, persons, outings, encounters or
referrals (columns as in the API; see docs/import.md). All rows or none: on
any bad row nothing is written, every problem is listed as
"line N: column: message" and the command exits with status 1.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from outreach.resources import TableError, read_table

from ._records import RESOURCES, acting_user, error_lines


class Command(BaseCommand):
    help = "Import records from a CSV or XLSX file: all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("resource", choices=sorted(RESOURCES))
        parser.add_argument("file", help="A .csv or .xlsx file whose first line names the columns.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and write nothing.")
        parser.add_argument("--user", metavar="EMAIL", help="Acting user (default: the first superuser).")

    def handle(self, *args, resource, file, dry_run, user, **options):
        actor = acting_user(user)
        try:
            table = read_table(file)
        except FileNotFoundError:
            raise CommandError(_("No such file: %(file)s") % {"file": file}) from None
        except TableError as error:
            raise CommandError(str(error)) from None
        resource_class = RESOURCES[resource]
        kwargs = {"batched": True} if resource == "encounters" else {}
        importer = resource_class(user=actor, **kwargs)
        importer.compute_diff = False
        started = time.monotonic()
        result = importer.import_data(table.dataset, dry_run=dry_run, user=actor, lines=table.lines)
        seconds = time.monotonic() - started
        problems = error_lines(result, table.line)
        if problems:
            for _line, message in problems:
                self.stderr.write(message)
            bad_rows = len({line for line, _message in problems})
            raise CommandError(_("%(count)s line(s) have problems; nothing was imported.") % {"count": bad_rows})
        totals = result.totals
        summary = _("%(new)s new, %(changed)s changed, %(unchanged)s unchanged (%(rows)s rows, %(seconds).1f s).") % {
            "new": totals["new"],
            "changed": totals["update"],
            "unchanged": totals["skip"],
            "rows": result.total_rows,
            "seconds": seconds,
        }
        if dry_run:
            self.stdout.write(_("Dry run, nothing was written: %(summary)s") % {"summary": summary})
        else:
            self.stdout.write(_("Imported: %(summary)s") % {"summary": summary})
