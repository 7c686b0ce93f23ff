"""python manage.py import_legacy_statistics FILE --team TEAM_ID [--dry-run] [--user EMAIL]

Turns a legacy statistics sheet (one row per outing with counts; see
docs/import.md and docs/legacy-statistics-template.csv) into done outings
with tallies and anonymous encounters for one team. All rows or none; rows
imported before are skipped, so running it twice creates nothing new.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from encounters.management.commands._records import acting_user
from outreach.resources import TableError, read_table
from outreach.selectors import teams_visible_to
from reports.legacy import LegacyImport


class Command(BaseCommand):
    help = "Import a legacy statistics sheet as done outings and anonymous encounters of one team."

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .csv or .xlsx file in the layout of docs/legacy-statistics-template.csv.")
        parser.add_argument("--team", required=True, metavar="TEAM_ID", help="The team whose work the sheet records.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and write nothing.")
        parser.add_argument("--user", metavar="EMAIL", help="Acting user (default: the first superuser).")

    def handle(self, *args, file, team, dry_run, user, **options):
        actor = acting_user(user)
        chosen = teams_visible_to(actor).filter(pk=int(team)).first() if team.isdigit() else None
        if chosen is None:
            raise CommandError(_("--team: no team with id %(team)s that you can use.") % {"team": team})
        try:
            table = read_table(file)
        except FileNotFoundError:
            raise CommandError(_("No such file: %(file)s") % {"file": file}) from None
        except TableError as error:
            raise CommandError(str(error)) from None

        result = LegacyImport(actor=actor, team=chosen).run(table, dry_run=dry_run)

        for line, outing_id in result.skipped:
            self.stdout.write(
                _("line %(line)s: imported before (outing %(outing)s); skipped.") % {"line": line, "outing": outing_id}
            )
        if result.errors:
            for line, column, message in sorted(result.errors, key=lambda error: error[0]):
                self.stderr.write(f"line {line}: {column}: {message}")
            bad = len({line for line, _column, _message in result.errors})
            raise CommandError(_("%(count)s line(s) have problems; nothing was imported.") % {"count": bad})
        needs = ", ".join(f"{code} {count}" for code, count in result.needs.items() if count)
        summary = _(
            "%(outings)s outings, %(encounters)s encounters, %(tallied)s brief contacts; needs: %(needs)s; "
            "%(skipped)s rows imported before."
        ) % {
            "outings": result.outings,
            "encounters": result.encounters,
            "tallied": result.tallied_contacts,
            "needs": needs or "-",
            "skipped": len(result.skipped),
        }
        if dry_run:
            self.stdout.write(_("Dry run, nothing was written: %(summary)s") % {"summary": summary})
        else:
            self.stdout.write(_("Imported for team %(team)s: %(summary)s") % {"team": chosen, "summary": summary})
