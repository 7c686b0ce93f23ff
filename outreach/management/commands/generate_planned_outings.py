"""`python manage.py generate_planned_outings [--weeks N]`: plan the outings of sites' recurring schedules.

Meant for cron (e.g. nightly). Idempotent: outings already planned, done or
cancelled for a site, date and start time are left alone, so running it
again creates nothing new. Acts as the system (no user) for every active team
responsible for an active site with a recurring schedule.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from outreach.models import Team
from outreach.services import SCHEDULE_MAX_WEEKS, outings_generate_from_schedule


class Command(BaseCommand):
    help = (
        "Plan the outings that the recurring schedules of field sites call for in the coming weeks. "
        "Running it again creates nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--weeks",
            type=int,
            default=4,
            help=f"How many weeks ahead, from today (default %(default)s, at most {SCHEDULE_MAX_WEEKS}).",
        )

    def handle(self, *args, weeks, **options):
        if not 1 <= weeks <= SCHEDULE_MAX_WEEKS:
            raise CommandError(_("--weeks: enter a number from 1 to %(max)d.") % {"max": SCHEDULE_MAX_WEEKS})
        teams = (
            Team.objects.filter(active=True, sites__active=True, sites__schedule_weekday__isnull=False)
            .distinct()
            .order_by("name")
        )
        total = 0
        for team in teams:
            try:
                created = outings_generate_from_schedule(actor=None, team=team, weeks=weeks)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
            total += len(created)
            if options["verbosity"] > 1 or created:
                self.stdout.write(
                    _("%(team)s: %(count)d planned outings created.") % {"team": team.name, "count": len(created)}
                )
        self.stdout.write(_("Planned outings created: %(count)d.") % {"count": total})
