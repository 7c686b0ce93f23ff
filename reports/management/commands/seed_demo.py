"""`python manage.py seed_demo`: fill an empty database with demo data and demo users."""

import argparse
import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from outreach.vocabulary import Role
from reports import demo

# The summary lists what was created in this order (then anything else).
SUMMARY_ORDER = [
    "outreach.user",
    "outreach.area",
    "outreach.team",
    "outreach.fieldsite",
    "networks.partnerorganisation",
    "networks.contactperson",
    "networks.network",
    "networks.networkmeeting",
    "networks.communicationactivity",
    "reports.structuralobservation",
    "outreach.outing",
    "outreach.outing_participants",
    "reports.clientfeedback",
    "encounters.person",
    "encounters.consent",
    "encounters.encounter",
    "encounters.encounter_workers",
    "encounters.referral",
    "encounters.followup",
]


def _link_labels() -> dict[str, str]:
    # The many-to-many link tables have no verbose names worth showing.
    return {
        "outreach.outing_participants": _("Outing participants (links)"),
        "encounters.encounter_workers": _("Encounter workers (links)"),
    }


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(_("enter a date as YYYY-MM-DD")) from None


class Command(BaseCommand):
    help = (
        "Fill an empty database with a realistic, reproducible demo data set (sites, outings, persons, "
        "encounters, referrals, partners, networks, feedback) and demo users, and print their logins."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=demo.DEFAULT_SEED, help="Random seed; the same seed gives the same data."
        )
        parser.add_argument(
            "--encounters",
            type=int,
            default=demo.DEFAULT_ENCOUNTERS,
            help="Number of encounters (default %(default)s; millions are bulk-loaded).",
        )
        parser.add_argument(
            "--password",
            default=demo.DEMO_PASSWORD,
            help="Password of the demo users (default %(default)s); must pass the password validators.",
        )
        parser.add_argument(
            "--today",
            type=_date,
            default=None,
            help="End the period on this date (YYYY-MM-DD) instead of today, to reproduce an earlier data set.",
        )
        when_not_empty = parser.add_mutually_exclusive_group()
        when_not_empty.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and succeed) when the database already has data.",
        )
        when_not_empty.add_argument(
            "--force",
            action="store_true",
            help="Add demo data to a database that already has data: existing demo users, teams, sites, partners "
            "and networks are reused as they are; outings, encounters and the rest are added.",
        )

    def handle(self, *args, seed, encounters, password, today, if_empty, force, **options):
        if encounters < 0:
            raise CommandError(_("--encounters: enter zero or more."))
        if isinstance(today, str):  # from call_command, which skips the argument's type
            try:
                today = _date(today)
            except argparse.ArgumentTypeError as error:
                raise CommandError(f"--today: {error}") from None
        if demo.database_has_data():
            if if_empty:
                self.stdout.write(_("The database already has data: no demo data loaded."))
                return
            if not force:
                raise CommandError(
                    _(
                        "The database already has data; seed_demo fills an empty database and has written nothing. "
                        "To add demo data to it anyway, run it again with --force."
                    )
                )
        try:
            demo.validate_demo_password(password)
        except ValidationError as error:
            raise CommandError(_("--password: %(problems)s") % {"problems": " ".join(error.messages)}) from None

        progress = self._progress if encounters > demo.CHUNK_SIZE and options["verbosity"] > 0 else None
        result = demo.seed_demo(seed=seed, encounters=encounters, password=password, today=today, progress=progress)
        self._report(result, seed)

    def _progress(self, done: int, total: int) -> None:
        self.stdout.write(_("%(done)s of %(total)s encounters written") % {"done": done, "total": total})

    def _report(self, result: demo.SeedResult, seed: int) -> None:
        from django.apps import apps

        assert result.period is not None, "a finished seeding run has its period"
        start, end = result.period
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo data created (seed %(seed)s, %(start)s – %(end)s):")
                % {"seed": seed, "start": start.isoformat(), "end": end.isoformat()}
            )
        )
        labels = {**dict.fromkeys(result.counts), **_link_labels()}
        rows = []
        for label in [*SUMMARY_ORDER, *sorted(set(labels) - set(SUMMARY_ORDER))]:
            count = result.counts.get(label, 0)
            if count:
                name = labels.get(label) or capfirst(apps.get_model(label)._meta.verbose_name_plural)
                rows.append((str(name), count))
        width = max((len(name) for name, _count in rows), default=10)
        for name, count in rows:
            self.stdout.write(f"  {name:<{width}}  {count:>10,}")
        if result.seconds:
            self.stdout.write(
                _("%(rows)s rows bulk-loaded (%(loader)s) in %(seconds).1f s: %(rate)s rows/s.")
                % {
                    "rows": f"{result.bulk_rows:,}",
                    "loader": result.loader,
                    "seconds": result.seconds,
                    "rate": f"{result.rows_per_second:,.0f}",
                }
            )

        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(_("Demo logins:")))
        logins = [
            (login.email, str(Role(login.role).label), login.password or _("(existing user, password unchanged)"))
            for login in result.logins
        ]
        email_width = max(len(email) for email, _role, _password in logins)
        role_width = max(len(role) for _email, role, _password in logins)
        for email, role, password in logins:
            self.stdout.write(f"  {email:<{email_width}}  {role:<{role_width}}  {password}")
        self.stdout.write(
            _(
                "The other demo workers (e.g. anna.korhonen@example.org) have the same password. The coordinator "
                "and the administrator set up two-factor sign-in (an authenticator app) at their first login."
            )
        )
