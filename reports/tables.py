"""The report's tables: one list of tables, drawn by the dashboard, the period report, the PDF, XLSX and CSV.

Each table is built once from the summary and reach reports (and the few
reads in `dashboard`), so every door shows the same figures. Tables that
leave the system go through `suppressed()` first.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from networks.models import CommunicationActivity
from outreach.models import FieldSite, Municipality, User
from outreach.vocabulary import AgeGroup, Depth, Gender, GotHelp, Need, ReferralStatus, ServiceKind, SiteType, TalkAgain

from . import dashboard, selectors
from .dashboard import Period
from .models import StructuralObservation
from .suppression import suppress_count, suppress_table

COUNT = "count"
HOURS = "hours"
RATIO = "ratio"
TEXT = "text"
# Counts of the team's own work products (observations, communication), not of people met: the period report
# lists the observations themselves, so hiding their number would hide nothing.
PLAIN = "plain"

FREQUENCY_BUCKETS = [
    ("1", _("1 encounter")),
    ("2_5", _("2–5 encounters")),
    ("6_9", _("6–9 encounters")),
    ("10_plus", _("10 or more encounters")),
]


@dataclass
class Column:
    key: str
    label: object
    kind: str = COUNT
    # For a ratio: the count columns it is computed from (hidden with them); empty means every count column.
    derived_from: tuple[str, ...] = ()


@dataclass
class Row:
    key: str
    label: object
    values: list
    url: str = ""
    # A row may hold another kind of figure than its columns (key figures mix counts, hours and ratios).
    kind: str = ""


@dataclass
class Table:
    key: str
    title: object
    columns: list[Column]
    rows: list[Row]
    total: Row | None = None
    note: object = ""
    # The columns the chart draws: the first is the figure, the second (if any) the comparison.
    chart: list[int] = field(default_factory=lambda: [0])
    # Hide the whole table's figures when fewer answers (client feedback).
    hidden_note: object = ""

    def kind(self, row: Row, column: int) -> str:
        return row.kind or self.columns[column].kind


def min_feedback_answers() -> int:
    return int(getattr(settings, "REPORTS_FEEDBACK_MIN_ANSWERS", 7))


def _period_label(period: Period) -> str:
    kind = period.kind
    if kind == "month":
        return date_format(period.start, "F Y")
    if kind == "year":
        return str(period.start.year)
    if kind == "quarter":
        return f"Q{(period.start.month - 1) // 3 + 1} {period.start.year}"
    return f"{date_format(period.start, 'SHORT_DATE_FORMAT')}–{date_format(period.end, 'SHORT_DATE_FORMAT')}"


def period_label(period: Period) -> str:
    return _period_label(period)


def _pair(current: dict, previous: dict | None, key: str) -> list:
    return [current.get(key), previous.get(key) if previous is not None else None]


def build_report(
    *,
    user: User,
    period: Period,
    filters: dict,
    compare: bool = True,
    site_url: Callable[[int], str] | None = None,
) -> dict:
    """Every table of the report for the period, with the previous period beside when `compare`."""
    scope = {"user": user, **filters}
    summary, funnel = selectors.summary_with_funnel(start=period.start, end=period.end, **scope)
    previous_period = period.previous()
    previous = (
        selectors.summary_report(start=previous_period.start, end=previous_period.end, **scope) if compare else None
    )
    reach_sites = selectors.reach_report(start=period.start, end=period.end, group="site", **scope)
    reach_types = selectors.reach_report(start=period.start, end=period.end, group="site_type", **scope)
    workers = dashboard.work_by_worker(start=period.start, end=period.end, **scope)
    communication = dashboard.communication_in_period(start=period.start, end=period.end, **scope)
    observations = list(dashboard.observations_in_period(start=period.start, end=period.end, **scope))

    this_label = _period_label(period)
    previous_label = _period_label(previous_period)

    def compared(label_key: str = "") -> list[Column]:
        columns = [Column("current", this_label)]
        if compare:
            columns.append(Column("previous", previous_label))
        return columns

    def values(current: dict, old: dict | None, key: str) -> list:
        return [current[key], old[key]] if compare and old is not None else [current[key]]

    def by_codes(key: str, enum, title, *, total: bool = True, note: object = "") -> Table:
        rows = [
            Row(code, enum(code).label, values(summary[key], previous[key] if previous else None, code))
            for code in enum.values
        ]
        total_row = None
        if total:
            total_row = Row(
                "total", _("Total"), [sum(row.values[i] for row in rows) for i in range(len(rows[0].values))]
            )
        return Table(key, title, compared(), rows, total_row, note=note, chart=list(range(len(rows[0].values))))

    tables: list[Table] = []

    # Key figures, this period beside the previous one.
    def figure(key: str, label, kind: str = COUNT, value: Callable[[dict], object] | None = None) -> Row:
        get = value or (lambda report: report.get(key))
        row_values = [get(summary)]
        if compare and previous is not None:
            row_values.append(get(previous))
        return Row(key, label, row_values, kind=kind)

    feedback_rule = min_feedback_answers()

    def feedback_mean(report: dict):
        return report["feedback_mean_score"] if report["feedback_count"] >= feedback_rule else None

    tables.append(
        Table(
            "key_figures",
            _("Key figures"),
            compared(),
            [
                figure("encounters_total", _("Encounters")),
                figure("encounters_conversation", _("Conversations")),
                figure("tallied_contacts", _("Tallied brief contacts")),
                figure("persons_reached", _("Persons reached")),
                figure("persons_new", _("New persons")),
                figure("persons_engaged", _("Persons in ongoing support")),
                figure("outings_done", _("Outings done")),
                figure("outing_hours", _("Outing hours"), HOURS),
                figure("encounters_per_outing_hour", _("Encounters per outing hour"), RATIO),
                figure("referrals_total", _("Referrals")),
                figure("referrals_connected_rate", _("Share of referrals connected"), RATIO),
                figure("feedback_count", _("Feedback answers")),
                figure("feedback_mean_score", _("Mean feedback score (1–5)"), RATIO, feedback_mean),
            ],
            chart=[],
            note=format_lazy(_("The mean feedback score is shown from {count} answers on."), count=feedback_rule),
        )
    )

    month_rows = [
        Row(month, date_format(datetime.date.fromisoformat(month + "-01"), "M Y"), [n])
        for month, n in summary["by_month"].items()
    ]
    tables.append(
        Table(
            "by_month",
            _("Encounters by month"),
            [Column("encounters", _("Encounters"))],
            month_rows,
            Row("total", _("Total"), [summary["encounters_total"]]),
        )
    )
    tables.append(by_codes("by_site_type", SiteType, _("Encounters by site type")))

    names = {municipality.code: municipality.name for municipality in Municipality.objects.all()}
    municipality_rows = [
        Row(
            code,
            names.get(code, code),
            values(summary["by_municipality"], previous["by_municipality"] if previous else None, code),
        )
        for code in summary["by_municipality"]
        if summary["by_municipality"][code] or (previous and previous["by_municipality"].get(code))
    ]
    tables.append(
        Table(
            "by_municipality",
            _("Encounters by municipality"),
            compared(),
            sorted(municipality_rows, key=lambda row: str(row.label)),
            Row(
                "total",
                _("Total"),
                values(
                    {"n": summary["encounters_total"]}, {"n": previous["encounters_total"]} if previous else None, "n"
                ),
            ),
            chart=list(range(2 if compare else 1)),
            note=_("Municipalities without encounters in either period are left out."),
        )
    )

    reach_columns = [
        Column("outings_done", _("Outings")),
        Column("outing_hours", _("Hours"), HOURS),
        Column("encounters", _("Encounters")),
        Column("conversations", _("Conversations")),
        Column("tallied_contacts", _("Tallied contacts")),
        Column("contacts_per_outing_hour", _("Contacts per hour"), RATIO, ("encounters", "tallied_contacts")),
        Column("conversations_per_outing_hour", _("Conversations per hour"), RATIO, ("conversations",)),
    ]
    reach_note = _(
        "Reach counts the encounters of done outings and their tallied brief contacts. Encounters logged without "
        "an outing are in the other tables, not here. Weakest first."
    )

    def reach_rows(rows, label, url) -> list[Row]:
        built = [
            Row(str(row["key"]), label(row), [row[column.key] for column in reach_columns], url=url(row))
            for row in rows
        ]
        # The weakest first: fewest contacts per hour; rows without hours at the end.
        return sorted(built, key=lambda row: (row.values[5] is None, row.values[5] or 0, str(row.label)))

    tables.append(
        Table(
            "reach_by_site",
            _("Reach per outing hour by site"),
            reach_columns,
            reach_rows(
                reach_sites["rows"],
                lambda row: row.get("name") or row["key"],
                lambda row: site_url(row["key"]) if site_url else "",
            ),
            note=reach_note,
            chart=[5],
        )
    )
    tables.append(
        Table(
            "reach_by_site_type",
            _("Reach per outing hour by site type"),
            reach_columns,
            reach_rows(reach_types["rows"], lambda row: SiteType(row["key"]).label, lambda row: ""),
            note=reach_note,
            chart=[5],
        )
    )

    brief = {"n": summary["encounters_total"] - summary["encounters_conversation"]}
    depth_rows = [
        Row(Depth.BRIEF, Depth.BRIEF.label, [summary["encounters_total"] - summary["encounters_conversation"]]),
        Row(Depth.CONVERSATION, Depth.CONVERSATION.label, [summary["encounters_conversation"]]),
    ]
    if compare and previous is not None:
        depth_rows[0].values.append(previous["encounters_total"] - previous["encounters_conversation"])
        depth_rows[1].values.append(previous["encounters_conversation"])
    del brief
    tables.append(
        Table(
            "depth",
            _("Depth of encounters"),
            compared(),
            depth_rows,
            Row("total", _("Total"), values(summary, previous, "encounters_total")),
            chart=list(range(2 if compare else 1)),
            note=format_lazy(
                _("Besides these, {count} brief contacts were tallied at outings without an individual record."),
                count=summary["tallied_contacts"],
            ),
        )
    )

    def returning(report: dict) -> int:
        return report["persons_reached"] - report["persons_new"]

    person_rows = [
        Row("new", _("New persons (first met in the period)"), [summary["persons_new"]]),
        Row("returning", _("Returning persons"), [returning(summary)]),
    ]
    if compare and previous is not None:
        person_rows[0].values.append(previous["persons_new"])
        person_rows[1].values.append(returning(previous))
    tables.append(
        Table(
            "persons",
            _("New and returning persons"),
            compared(),
            person_rows,
            Row("total", _("Persons reached"), values(summary, previous, "persons_reached")),
            chart=list(range(2 if compare else 1)),
            note=_("Persons with a record (pseudonymous or named); anonymous encounters are not persons."),
        )
    )

    frequency = summary.get("contact_frequency") or {}
    old_frequency = (previous or {}).get("contact_frequency") or {}
    tables.append(
        Table(
            "contact_frequency",
            _("Persons by number of encounters in the period"),
            compared(),
            [
                Row(code, label, values(frequency, old_frequency, code) if frequency else [0] * (2 if compare else 1))
                for code, label in FREQUENCY_BUCKETS
            ],
            Row("total", _("Persons reached"), values(summary, previous, "persons_reached")),
            chart=list(range(2 if compare else 1)),
        )
    )
    tables.append(
        by_codes("by_need", Need, _("Needs"), total=False, note=_("An encounter counts under each of its needs."))
    )
    tables.append(by_codes("by_gender", Gender, _("Gender")))
    tables.append(by_codes("by_age_group", AgeGroup, _("Age group")))

    funnel_rows = []
    for code in ServiceKind.values:
        stage = funnel[code]
        rate = round(stage["connected"] / stage["suggested"], 2) if stage["suggested"] else None
        funnel_rows.append(
            Row(code, ServiceKind(code).label, [stage["suggested"], stage["made"], stage["connected"], rate])
        )
    suggested = sum(row.values[0] for row in funnel_rows)
    connected = sum(row.values[2] for row in funnel_rows)
    tables.append(
        Table(
            "referral_funnel",
            _("Referrals: suggested → made → connected"),
            [
                Column("suggested", _("Suggested")),
                Column("made", _("Made")),
                Column("connected", _("Connected")),
                Column("connected_rate", _("Connected rate"), RATIO, ("suggested", "connected")),
            ],
            funnel_rows,
            Row(
                "total",
                _("Total"),
                [
                    suggested,
                    sum(row.values[1] for row in funnel_rows),
                    connected,
                    round(connected / suggested, 2) if suggested else None,
                ],
            ),
            chart=[0, 2],
            note=_("Every referral of the period by its service; made and connected count those that got that far."),
        )
    )
    tables.append(by_codes("referrals_by_status", ReferralStatus, _("Referrals by current status")))

    tables.append(
        Table(
            "work_by_worker",
            _("Outings and hours by worker"),
            [Column("outings", _("Outings")), Column("hours", _("Hours"), HOURS)],
            [Row(str(row["user_id"]), row["name"], [row["outings"], row["hours"]]) for row in workers],
            chart=[1],
            note=_("Every participant of a done outing, experts by experience too; by site in the reach table."),
        )
    )

    feedback_count = summary["feedback_count"]
    feedback_rows = [
        Row("count", _("Answers"), [feedback_count]),
        Row("mean", _("Mean score (1–5)"), [feedback_mean(summary)], kind=RATIO),
    ]
    tables.append(
        Table(
            "feedback",
            _("Client feedback"),
            [Column("value", this_label)],
            feedback_rows,
            chart=[],
            note=format_lazy(
                _("Breakdowns of client feedback are shown from {count} answers on."), count=feedback_rule
            ),
        )
    )

    tables.extend(feedback_tables(user=user, period=period, filters=filters))

    theme_counts: dict[str, int] = {}
    for observation in observations:
        theme_counts[observation.theme] = theme_counts.get(observation.theme, 0) + 1
    reported = sum(1 for observation in observations if observation.reported_on)
    tables.append(
        Table(
            "observations",
            _("Structural observations by theme"),
            [Column("count", _("Observations"), PLAIN)],
            [
                Row(code, StructuralObservation.Theme(code).label, [theme_counts.get(code, 0)])
                for code in StructuralObservation.Theme.values
            ],
            Row("total", _("Total"), [len(observations)]),
            note=format_lazy(_("{count} of them reported upward."), count=reported),
        )
    )
    tables.append(
        Table(
            "communication",
            _("Communication activities"),
            [Column("count", _("Activities"), PLAIN), Column("audience", _("Audience reached"), PLAIN)],
            [
                Row(
                    code,
                    CommunicationActivity.Kind(code).label,
                    [communication[code]["count"], communication[code]["audience"]],
                )
                for code in CommunicationActivity.Kind.values
            ],
            Row(
                "total",
                _("Total"),
                [
                    sum(item["count"] for item in communication.values()),
                    sum(item["audience"] for item in communication.values()),
                ],
            ),
        )
    )

    from .network_report import network_table  # it builds on this module's tables

    tables.append(network_table(user, period.start, period.end))

    return {
        "period": period,
        "previous_period": previous_period,
        "summary": summary,
        "previous": previous,
        "tables": tables,
        "observations": observations,
        "evaluation": dashboard.evaluation_for(period),
    }


def suppressed(table: Table, limit: int | None = None) -> Table:
    """The table as it may leave the system: small counts hidden, primary and secondary.

    Count cells are suppressed as one grid (secondary suppression along each
    column when the table shows its total); a total is suppressed on its own.
    A ratio computed from a hidden count is hidden too ("–"), or it would give
    the count back.
    """
    count_columns = [index for index, column in enumerate(table.columns) if column.kind == COUNT]
    count_rows = [row for row in table.rows if (row.kind or COUNT) == COUNT]
    grid = [[int(row.values[index] or 0) for index in count_columns] for row in count_rows]
    hidden = suppress_table(grid, limit=limit, column_totals=table.total is not None)
    rows = []
    grid_rows = iter(hidden)
    for row in table.rows:
        new_values = list(row.values)
        if (row.kind or COUNT) == COUNT:
            for index, value in zip(count_columns, next(grid_rows), strict=True):
                new_values[index] = value
            new_values = _hide_derived(table, new_values)
        rows.append(replace(row, values=new_values))
    total = None
    if table.total is not None:
        total_values = [
            suppress_count(int(value or 0), limit) if table.columns[index].kind == COUNT else value
            for index, value in enumerate(table.total.values)
        ]
        total_values = _hide_derived(table, total_values)
        total = replace(table.total, values=total_values)
    if table.key == "key_figures":
        rows = _suppress_key_figures(rows, table)
    return replace(table, rows=rows, total=total)


def _hide_derived(table: Table, values: list) -> list:
    """A ratio computed from a hidden count is hidden too ("–"): with the hours beside it, it gives the count back."""
    hidden = {column.key for column, value in zip(table.columns, values, strict=True) if isinstance(value, str)}
    counts = {column.key for column in table.columns if column.kind == COUNT}
    result = list(values)
    for index, column in enumerate(table.columns):
        if column.kind == RATIO and hidden & (set(column.derived_from) or counts):
            result[index] = "–"
    return result


def _suppress_key_figures(rows: list[Row], table: Table) -> list[Row]:
    """Key figures are separate counts, each suppressed on its own; a ratio whose count is hidden goes too."""
    by_key = {row.key: row for row in rows}
    derived = {
        "encounters_per_outing_hour": "encounters_total",
        "referrals_connected_rate": "referrals_total",
        "feedback_mean_score": "feedback_count",
    }
    result = []
    for row in rows:
        source = derived.get(row.key)
        if source and source in by_key:
            new_values = [
                "–" if isinstance(hidden, str) else value
                for value, hidden in zip(row.values, by_key[source].values, strict=True)
            ]
            row = replace(row, values=new_values)
        result.append(row)
    return result


def site_choices() -> list[FieldSite]:
    return list(FieldSite.objects.select_related("municipality").order_by("name"))


def feedback_tables(*, user: User, period: Period, filters: dict) -> list[Table]:
    """Client feedback by site type and by site, and the comments, for coordinators.

    A row with fewer than 7 answers shows its count and "fewer than 7
    answers" instead of figures; comments leave only for sites with 7 answers
    or more in the period.
    """
    from .feedback_selectors import feedback_breakdown, feedback_comments
    from .permissions import can_read_feedback_results

    if not can_read_feedback_results(user):
        return []
    rule = min_feedback_answers()
    fewer = str(format_lazy(_("fewer than {count} answers"), count=rule))
    columns = [
        Column("count", _("Answers"), PLAIN),
        Column("mean_score", _("Mean score (1–5)"), RATIO),
        *[
            Column(f"got_help_{code}", format_lazy(_("Got help: {answer}"), answer=label), PLAIN)
            for code, label in GotHelp.choices
        ],
        *[
            Column(f"talk_again_{code}", format_lazy(_("Would talk again: {answer}"), answer=label), PLAIN)
            for code, label in TalkAgain.choices
        ],
    ]

    def rows_of(group: str) -> list[Row]:
        breakdown = feedback_breakdown(user=user, start=period.start, end=period.end, group=group, **filters)
        labels = dict(SiteType.choices) if group == "site_type" else {}
        rows = []
        for row in breakdown["rows"]:
            label = labels.get(row["key"], row["label"])
            if row["suppressed"]:
                rows.append(Row(str(row["key"]), label, [row["count"], fewer, *[""] * (len(columns) - 2)], kind=TEXT))
            else:
                values = [row["count"], row["mean_score"], *row["got_help"].values(), *row["talk_again"].values()]
                rows.append(Row(str(row["key"]), label, values))
        return rows

    note = format_lazy(_("Figures of a group are shown from {count} answers on."), count=rule)
    # The newest comments only: a year at a busy day centre has thousands; all of them are on the feedback page.
    newest = settings.REPORTS_FEEDBACK_COMMENTS_MAX
    comments = feedback_comments(
        user=user, start=period.start, end=period.end, leaving_the_system=True, limit=newest, **filters
    )
    return [
        Table(
            "feedback_by_site_type",
            _("Client feedback by site type"),
            columns,
            rows_of("site_type"),
            chart=[],
            note=note,
        ),
        Table("feedback_by_site", _("Client feedback by site"), columns, rows_of("site"), chart=[], note=note),
        Table(
            "feedback_comments",
            _("Client comments"),
            [Column("given_on", _("Given on"), TEXT), Column("text", _("Comment"), TEXT)],
            [
                Row(
                    str(comment["id"]),
                    comment["site_name"],
                    [comment["given_on"].isoformat(), comment["text"]],
                    kind=TEXT,
                )
                for comment in comments
            ],
            chart=[],
            note=format_lazy(
                _(
                    "The newest {newest} comments of sites with at least {count} answers in the period (all of "
                    "them on the feedback page); identifiers are shown as [hidden]."
                ),
                count=rule,
                newest=newest,
            ),
        ),
    ]
