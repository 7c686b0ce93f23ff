"""Reads for the report pages: periods, and the few figures the summary and reach reports do not give.

The summary (`selectors.summary_report`, with the referral funnel by service
from the same referrals: `selectors.summary_with_funnel`) and the reach report
(`selectors.reach_report`) are the source of every figure they define; this
module only adds what they leave out (work by worker, a worker's own month,
structural observations and communication), scoped by the same `*_visible_to`
selectors and filters.
"""

import calendar
import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, ExpressionWrapper, IntegerField, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, ExtractHour, ExtractMinute, ExtractSecond, TruncMonth
from django.utils.formats import date_format

from encounters.models import Encounter
from networks.models import CommunicationActivity
from outreach.models import FieldSite, Municipality, Outing, OutingWorkerDayCount, Team, User
from outreach.selectors import outings_visible_to, teams_visible_to
from outreach.vocabulary import OutingStatus

from . import selectors
from .models import PeriodEvaluation, StructuralObservation

# Periods -------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A reporting period, both days inclusive; `kind` is month, quarter, year or custom."""

    start: datetime.date
    end: datetime.date

    @property
    def kind(self) -> str:
        if self.start.day != 1 or self.end != _month_end(self.end):
            return "custom"
        months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
        if months == 1:
            return "month"
        if months == 3 and self.start.month in (1, 4, 7, 10):
            return "quarter"
        if months == 12 and self.start.month == 1:
            return "year"
        return "custom"

    def previous(self) -> "Period":
        """The period just before: the month, quarter or year before, or as many days just before."""
        months = {"month": 1, "quarter": 3, "year": 12}.get(self.kind)
        if months is None:
            length = self.end - self.start
            end = self.start - datetime.timedelta(days=1)
            return Period(end - length, end)
        start = _add_months(self.start, -months)
        return Period(start, _month_end(_add_months(self.start, -1)))

    def following(self) -> "Period":
        months = {"month": 1, "quarter": 3, "year": 12}.get(self.kind)
        if months is None:
            length = self.end - self.start
            start = self.end + datetime.timedelta(days=1)
            return Period(start, start + length)
        start = _add_months(self.start, months)
        return Period(start, _month_end(_add_months(start, months - 1)))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _add_months(day: datetime.date, months: int) -> datetime.date:
    """The first of the month `months` away from `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_period(day: datetime.date) -> Period:
    return Period(day.replace(day=1), _month_end(day))


def quarter_period(day: datetime.date) -> Period:
    first = datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return Period(first, _month_end(_add_months(first, 2)))


def year_period(day: datetime.date) -> Period:
    return Period(datetime.date(day.year, 1, 1), datetime.date(day.year, 12, 31))


def last_months(end: datetime.date, count: int) -> list[Period]:
    """The `count` calendar months up to and including `end`'s month, oldest first."""
    return [month_period(_add_months(end, -offset)) for offset in range(count - 1, -1, -1)]


# Filters ---------------------------------------------------------------------


def filter_choices(user: User) -> dict:
    """What the filters offer: the teams the user sees, municipalities where outreach is active or that the
    user's teams cover, and every site type."""
    teams = list(teams_visible_to(user).order_by("name"))
    municipalities = list(Municipality.objects.order_by("name_fi"))
    return {"teams": teams, "municipalities": municipalities}


# Figures the summary and reach reports do not give ------------------------------------


def _duration_seconds():
    """An outing's length in seconds (as the summary counts outing hours)."""
    return ExpressionWrapper(
        (ExtractHour("outing__end_time") - ExtractHour("outing__start_time")) * 3600
        + (ExtractMinute("outing__end_time") - ExtractMinute("outing__start_time")) * 60
        + ExtractSecond("outing__end_time")
        - ExtractSecond("outing__start_time"),
        output_field=IntegerField(),
    )


def _hours(seconds: int | None) -> float:
    return _two_places(Decimal(seconds or 0) / 3600)


def _two_places(hours: Decimal) -> float:
    return float(hours.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _done_outings(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    municipality: Municipality | None = None,
    site_type: str | None = None,
    team: Team | None = None,
) -> QuerySet[Outing]:
    outings = outings_visible_to(user).filter(status=OutingStatus.DONE, date__range=(start, end))
    if team is not None:
        outings = outings.filter(team=team)
    if municipality is not None:
        outings = outings.filter(site__municipality=municipality)
    if site_type:
        outings = outings.filter(site__site_type=site_type)
    return outings


def work_by_worker(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    municipality: Municipality | None = None,
    site_type: str | None = None,
    team: Team | None = None,
) -> list[dict]:
    """Done outings and hours per participant (experts by experience too), most hours first.

    A participant's hours are the outing's length: summed over participants
    they give the summary's outing hours (duration × participants). Read
    from the day rollup by worker, which `work_by_worker_raw` defines.
    """
    where = selectors.rollup_scope(user=user, municipality=municipality, site_type=site_type, team=team)
    if where is None:
        return work_by_worker_raw(
            user=user, start=start, end=end, municipality=municipality, site_type=site_type, team=team
        )
    rows = (
        OutingWorkerDayCount.objects.filter(where, day__range=(start, end))
        .values("user_id", "user__full_name", "user__email")
        .annotate(outings=Sum("outings_done"), seconds=Sum("seconds"))
        .order_by()
    )
    return _by_worker(
        (row["user_id"], row["user__full_name"] or row["user__email"], row["outings"], Decimal(row["seconds"]) / 3600)
        for row in rows
    )


def work_by_worker_raw(**filters) -> list[dict]:
    """`work_by_worker` from the outings and their participants."""
    outings = _done_outings(**filters)
    through = Outing.participants.through
    rows = (
        through.objects.filter(outing__in=outings.values("id"))
        .values("user_id", "user__full_name", "user__email")
        .annotate(
            outings=Count("outing_id"),
            seconds=Sum(_duration_seconds(), filter=Q(outing__end_time__isnull=False)),
        )
        .order_by()
    )
    return _by_worker(
        (
            row["user_id"],
            row["user__full_name"] or row["user__email"],
            row["outings"],
            Decimal(row["seconds"] or 0) / 3600,
        )
        for row in rows
    )


def _by_worker(rows) -> list[dict]:
    """(user id, name, outings, hours) rows as the dashboard's table, most hours first."""
    result = [
        {"user_id": user_id, "name": name, "outings": outings, "hours": _two_places(hours)}
        for user_id, name, outings, hours in rows
    ]
    return sorted(result, key=lambda row: (-row["hours"], -row["outings"], row["name"]))


def own_work(user: User, period: Period) -> dict:
    """A worker's own month: the done outings they took part in, their hours there, and the encounters they
    logged or are named as a worker on."""
    participations = Outing.participants.through.objects.filter(
        user=user, outing__status=OutingStatus.DONE, outing__date__range=(period.start, period.end)
    ).aggregate(
        outings=Count("outing_id"),
        seconds=Sum(_duration_seconds(), filter=Q(outing__end_time__isnull=False)),
    )
    encounters = (
        Encounter.objects.filter(occurred_on__range=(period.start, period.end))
        .filter(Q(workers=user) | Q(created_by=user))
        .values("id")
        .distinct()
        .count()
    )
    return {
        "period": period,
        "outings": participations["outings"],
        "hours": _hours(participations["seconds"]),
        "encounters": encounters,
    }


def observations_in_period(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    municipality: Municipality | None = None,
    site_type: str | None = None,
    team: Team | None = None,
) -> QuerySet[StructuralObservation]:
    observations = selectors.observations_visible_to(user).filter(observed_on__range=(start, end))
    if team is not None:
        observations = observations.filter(team=team)
    if municipality is not None:
        observations = observations.filter(municipality=municipality)
    if site_type:
        observations = observations.filter(site__site_type=site_type)
    return observations.order_by("theme", "municipality__name_fi", "-observed_on", "-id")


def observations_by_theme_and_month(observations: QuerySet[StructuralObservation]) -> list[dict]:
    """Counts per theme, municipality and month, for seeing themes recur over time: one dict per theme and
    municipality, with its months in order."""
    rows = (
        observations.order_by()
        .annotate(month=TruncMonth("observed_on"))
        .values("theme", "municipality_id", "month")
        .annotate(n=Count("id"), reported=Count("id", filter=Q(reported_on__isnull=False)))
    )
    municipalities = {municipality.pk: municipality for municipality in Municipality.objects.all()}
    themes = dict(StructuralObservation.Theme.choices)
    groups: dict[tuple[str, int], dict] = {}
    for row in rows:  # one row per theme, municipality and month
        key = (row["theme"], row["municipality_id"])
        group = groups.setdefault(
            key,
            {
                "theme": themes.get(row["theme"], row["theme"]),
                "municipality": municipalities[row["municipality_id"]].name,
                "months": [],
                "total": 0,
                "reported": 0,
            },
        )
        group["months"].append({"month": row["month"], "count": row["n"], "reported": row["reported"]})
        group["total"] += row["n"]
        group["reported"] += row["reported"]
    for group in groups.values():
        group["months"].sort(key=lambda month: month["month"])
    return sorted(groups.values(), key=lambda group: (str(group["theme"]), group["municipality"]))


def communication_in_period(
    *, user: User, start: datetime.date, end: datetime.date, team: Team | None = None, **_filters
) -> dict[str, dict[str, int]]:
    """Communication activities of the period by kind: how many, and the audience they reached.

    Activities of the user's teams and those recorded for the whole county
    (no team). Municipality and site type do not apply to them.
    """
    activities = CommunicationActivity.objects.filter(date__range=(start, end))
    if team is not None:
        activities = activities.filter(team=team)
    elif not user.is_superuser:
        activities = activities.filter(Q(team__in=teams_visible_to(user)) | Q(team__isnull=True))
    rows = activities.order_by().values("kind").annotate(n=Count("id"), audience=Coalesce(Sum("audience_size"), 0))
    result = {code: {"count": 0, "audience": 0} for code in CommunicationActivity.Kind.values}
    for row in rows:  # one row per kind
        result[row["kind"]] = {"count": row["n"], "audience": int(row["audience"])}
    return result


def evaluation_for(period: Period) -> PeriodEvaluation | None:
    return PeriodEvaluation.objects.filter(start=period.start, end=period.end).select_related("updated_by").first()


# The site evaluation page -------------------------------------------------------


class ReachCache:
    """Reach by site for a period, asked once per period however often a page needs it."""

    def __init__(self, user: User, team: Team | None = None):
        self.user = user
        self.team = team
        self._rows: dict[Period, dict] = {}

    def site_row(self, period: Period, site: FieldSite) -> dict:
        if period not in self._rows:
            report = selectors.reach_report(
                user=self.user, start=period.start, end=period.end, group="site", team=self.team
            )
            self._rows[period] = {str(row["key"]): row for row in report["rows"]}
        return self._rows[period].get(str(site.pk)) or empty_reach_row(site)


def empty_reach_row(site: FieldSite) -> dict:
    return {
        "key": site.pk,
        "name": site.name,
        "outings_done": 0,
        "outing_hours": 0.0,
        "encounters": 0,
        "conversations": 0,
        "tallied_contacts": 0,
        "contacts_per_outing_hour": None,
        "conversations_per_outing_hour": None,
    }


def season_periods(site: FieldSite, reference: datetime.date) -> list[Period]:
    """The site's latest season that has begun by `reference`, and the same months a year before.

    A season may run over the new year (e.g. November–February).
    """
    if site.season_start_month is None or site.season_end_month is None:
        return []
    year = (
        reference.year if datetime.date(reference.year, site.season_start_month, 1) <= reference else reference.year - 1
    )

    def season(first_year: int) -> Period:
        start = datetime.date(first_year, site.season_start_month, 1)  # type: ignore[arg-type]
        end_year = first_year if site.season_end_month >= site.season_start_month else first_year + 1  # type: ignore[operator]
        return Period(start, _month_end(datetime.date(end_year, site.season_end_month, 1)))  # type: ignore[arg-type]

    return [season(year), season(year - 1)]


def season_months(season: Period) -> list[Period]:
    months = []
    day = season.start
    while day <= season.end:
        months.append(month_period(day))
        day = _add_months(day, 1)
    return months


def site_evaluation(*, user: User, site: FieldSite, period: Period, team: Team | None = None) -> dict:
    """A site's figures for the period, its last 12 months, and its seasons side by side.

    `contacts` beside each reach row is encounters + tallied contacts, the
    figure that `contacts_per_outing_hour` divides by the hours.
    """
    reach = ReachCache(user, team)

    def row(of: Period) -> dict:
        figures = dict(reach.site_row(of, site))
        figures["contacts"] = figures["encounters"] + figures["tallied_contacts"]
        return figures

    trend = [(month, row(month)) for month in last_months(period.end, 12)]
    seasons = season_periods(site, period.end)
    comparison = []
    season_totals = []
    if seasons:
        this, before = seasons
        for month_this, month_before in zip(season_months(this), season_months(before), strict=True):
            comparison.append((month_this, row(month_this), month_before, row(month_before)))
        season_totals = [(this, row(this)), (before, row(before))]
    return {
        "figures": row(period),
        "trend": trend,
        "trend_rows": [
            (date_format(month.start, "M Y"), [figures["contacts_per_outing_hour"]]) for month, figures in trend
        ],
        "seasons": seasons,
        "season_comparison": comparison,
        "season_totals": season_totals,
    }
