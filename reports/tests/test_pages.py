"""The report pages: dashboard, site evaluation, period report and its files (see conftest.world)."""

import csv
import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from pypdf import PdfReader

from outreach.models import AuditEntry
from reports.models import PeriodEvaluation
from reports.services import feedback_record
from reports.tables import build_report
from reports.tests.conftest import Q2
from reports.views import Period

DASHBOARD = "/reports/"
PERIOD = "/reports/period/"


def site_url(site):
    return f"/reports/sites/{site.pk}/"


@pytest.fixture
def coordinator_client(client, coordinator, with_totp):
    client.force_login(with_totp(coordinator))
    return client


def table(response, key):
    return next(item for item in response.context["tables"] if item.key == key)


def rows(table_):
    return {str(row.label): row.values for row in table_.rows}


# Who may -----------------------------------------------------------------------


@pytest.mark.parametrize("url", [DASHBOARD, PERIOD, "/reports/observations/", "/reports/me/"])
def test_an_expert_by_experience_gets_403(client, world, expert_a, url):
    client.force_login(expert_a)
    assert client.get(url, Q2).status_code == 403


def test_an_expert_gets_403_on_a_site_page_and_the_files(client, world, expert_a):
    client.force_login(expert_a)
    assert client.get(site_url(world["food"]), Q2).status_code == 403
    assert client.get(PERIOD, {**Q2, "format": "xlsx"}).status_code == 403


@pytest.mark.parametrize("url", [DASHBOARD, PERIOD])
def test_signed_out_users_are_sent_to_sign_in(client, world, url):
    response = client.get(url, Q2)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_worker_sees_their_own_teams_figures_only(client, world, worker_a):
    client.force_login(worker_a)
    response = client.get(DASHBOARD, Q2)
    assert response.status_code == 200
    # Team B's 3 encounters at Day B are not in it: 12 of team A.
    assert rows(table(response, "key_figures"))["Encounters"][0] == 12
    assert "Day B" not in rows(table(response, "reach_by_site"))


def test_another_teams_figures_are_refused_with_403(client, world, worker_b, team_a):
    client.force_login(worker_b)
    for url in (DASHBOARD, PERIOD, site_url(world["food"])):
        assert client.get(url, {**Q2, "team": team_a.pk}).status_code == 403
    assert client.get(PERIOD, {**Q2, "team": team_a.pk, "format": "pdf"}).status_code == 403


def test_a_site_page_shows_only_the_users_teams_work_there(client, world, worker_b):
    client.force_login(worker_b)
    response = client.get(site_url(world["food"]), Q2)
    assert response.status_code == 200
    assert response.context["figures"]["outings_done"] == 0


def test_a_coordinator_without_mfa_is_sent_to_set_it_up(client, world, coordinator):
    client.force_login(coordinator)
    assert client.get(DASHBOARD, Q2).status_code == 302


# The dashboard ------------------------------------------------------------------


def test_the_dashboard_shows_each_figure_beside_the_previous_period(coordinator_client, world):
    response = coordinator_client.get(DASHBOARD, Q2)
    assert response.status_code == 200
    figures = rows(table(response, "key_figures"))
    # Team A's 12 and team B's 3 encounters; nothing in Q1.
    assert figures["Encounters"] == [15, 0]
    assert figures["Outings done"] == [4, 0]
    assert figures["Outing hours"] == [9.0, 0.0]
    assert figures["Tallied brief contacts"] == [12, 0]
    # 6 answers: below the 7-answer rule, no mean.
    assert figures["Feedback answers"] == [6, 0]
    assert figures["Mean feedback score (1–5)"] == [None, None]
    assert [column.label for column in table(response, "by_site_type").columns] == ["Q2 2026", "Q1 2026"]


def test_reach_by_site_puts_the_weakest_first_and_links_to_the_site(coordinator_client, world):
    response = coordinator_client.get(DASHBOARD, Q2)
    reach = table(response, "reach_by_site")
    # Day B: 3 contacts in 2 h; Street: 2 in 1 h; Food: 8 encounters + 12 tallied in 6 h.
    assert [(str(row.label), row.values[5]) for row in reach.rows] == [("Day B", 1.5), ("Street", 2.0), ("Food", 3.33)]
    food = reach.rows[2]
    assert food.values[:5] == [2, 6.0, 8, 7, 12]
    assert food.url.startswith(site_url(world["food"]) + "?start=2026-04-01&end=2026-06-30")
    content = response.content.decode()
    assert f'href="{site_url(world["food"])}?start=2026-04-01&amp;end=2026-06-30"' in content
    assert "Encounters logged without an outing are in the other tables, not here." in content


def test_the_referral_funnel_counts_how_far_each_referral_got(coordinator_client, world):
    funnel = rows(table(coordinator_client.get(DASHBOARD, Q2), "referral_funnel"))
    assert funnel["Adult social work"] == [3, 2, 1, 0.33]
    assert funnel["Housing services"] == [1, 1, 1, 1.0]


def test_work_by_worker_gives_each_participants_outings_and_hours(coordinator_client, world, worker_a, expert_a):
    work = table(coordinator_client.get(DASHBOARD, Q2), "work_by_worker")
    by_worker = {row.key: row.values for row in work.rows}
    # Worker A: 2 h + 2 h + 1 h; the expert: the first outing's 2 h. The cancelled outing counts nowhere.
    assert by_worker[str(worker_a.pk)] == [3, 5.0]
    assert by_worker[str(expert_a.pk)] == [1, 2.0]


def test_the_dashboard_draws_every_chart_as_svg_with_its_table(coordinator_client, world):
    content = coordinator_client.get(DASHBOARD, Q2).content.decode()
    assert content.count("<svg") == content.count('class="report-chart"')
    assert content.count("<svg") >= 10
    assert "<script" not in content.split("<main")[1].split("</main>")[0]


def test_the_period_picker_moves_by_the_kind_of_period(coordinator_client, world):
    response = coordinator_client.get(DASHBOARD, {"period": "month", "start": "2026-05-17"})
    assert response.context["period"] == Period(datetime.date(2026, 5, 1), datetime.date(2026, 5, 31))
    assert response.context["previous_period"] == Period(datetime.date(2026, 4, 1), datetime.date(2026, 4, 30))
    assert "start=2026-06-01&end=2026-06-30" in response.context["next_url"]
    year = coordinator_client.get(DASHBOARD, {"period": "year", "start": "2026-05-17"})
    assert year.context["period"] == Period(datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))
    custom = coordinator_client.get(DASHBOARD, {"start": "2026-04-10", "end": "2026-04-19"})
    assert custom.context["previous_period"] == Period(datetime.date(2026, 3, 31), datetime.date(2026, 4, 9))


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"start": "2026-13-01", "end": "2026-06-30"}, "start"),
        ({"start": "2026-04-01"}, "end"),
        ({"start": "2026-06-01", "end": "2026-04-01"}, "end"),
        ({**Q2, "municipality": "999"}, "municipality"),
        ({**Q2, "site_type": "beach"}, "site_type"),
        ({**Q2, "team": "abc"}, "team"),
        ({"period": "week"}, "period"),
        ({"period": "month", "start": "17.5.2026"}, "start"),
    ],
)
def test_bad_parameters_get_a_400_page_naming_the_parameter(coordinator_client, world, params, name):
    for url in (DASHBOARD, PERIOD):
        response = coordinator_client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
        assert f"<code>{name}</code>" in response.content.decode()


def test_bad_parameters_are_explained_in_finnish(client, world, coordinator, with_totp):
    client.force_login(with_totp(coordinator))
    client.cookies["django_language"] = "fi"
    response = client.get(PERIOD, {**Q2, "format": "docx"})
    assert response.status_code == 400
    assert "<code>format</code>" in response.content.decode()
    assert "Valitse pdf, xlsx tai csv" in response.content.decode()


def test_the_dashboard_needs_a_bounded_number_of_queries(coordinator_client, world, django_assert_max_num_queries):
    # Two summaries, two reach reports and the few reads of reports.dashboard: 26 here, whatever the data size.
    with django_assert_max_num_queries(35):
        assert coordinator_client.get(DASHBOARD, Q2).status_code == 200


def test_the_dashboard_reads_the_referrals_once_per_period(coordinator_client, world):
    """The summary's referral figures and the funnel come from one read of the referral day rollup
    (`summary_with_funnel`): the period and the one before it, two reads in all, and the referrals
    themselves are not scanned."""
    with CaptureQueriesContext(connection) as queries:
        assert coordinator_client.get(DASHBOARD, Q2).status_code == 200
    rollup_reads = [query["sql"] for query in queries if 'FROM "encounters_referraldaycount"' in query["sql"]]
    assert len(rollup_reads) == 2
    assert all("GROUP BY" in sql for sql in rollup_reads)
    assert not [query["sql"] for query in queries if 'FROM "encounters_referral"' in query["sql"]]


def test_the_dashboard_shows_the_periods_evaluation(coordinator_client, world, coordinator):
    PeriodEvaluation.objects.create(
        start=datetime.date(2026, 4, 1), end=datetime.date(2026, 6, 30), successes="Food distribution works."
    )
    assert "Food distribution works." in coordinator_client.get(DASHBOARD, Q2).content.decode()


# The site evaluation page ---------------------------------------------------------


def test_the_site_page_gives_the_period_the_last_12_months_and_the_seasons(coordinator_client, world):
    response = coordinator_client.get(site_url(world["street"]), Q2)
    assert response.status_code == 200
    figures = response.context["figures"]
    assert (figures["outings_done"], figures["outing_hours"], figures["encounters"]) == (1, 1.0, 2)
    assert (figures["conversations"], figures["tallied_contacts"], figures["contacts_per_outing_hour"]) == (1, 0, 2.0)
    trend = response.context["trend"]
    assert next(month.start for month, _row in trend) == datetime.date(2025, 7, 1)
    assert [month.start for month, _row in trend][-1] == datetime.date(2026, 6, 1)
    assert [row["encounters"] for _month, row in trend][-2] == 2  # May 2026
    # The street's season April–September 2026 beside April–September 2025.
    seasons = response.context["seasons"]
    assert [(season.start, season.end) for season in seasons] == [
        (datetime.date(2026, 4, 1), datetime.date(2026, 9, 30)),
        (datetime.date(2025, 4, 1), datetime.date(2025, 9, 30)),
    ]
    comparison = response.context["season_comparison"]
    assert len(comparison) == 6
    may = comparison[1]
    assert (may[0].start, may[1]["contacts"], may[2].start, may[3]["contacts"]) == (
        datetime.date(2026, 5, 1),
        2,
        datetime.date(2025, 5, 1),
        0,
    )


def test_a_site_without_a_season_has_no_season_table(coordinator_client, world):
    response = coordinator_client.get(site_url(world["food"]), Q2)
    assert response.context["seasons"] == []
    assert 'id="site-seasons"' not in response.content.decode()


def test_the_site_page_needs_a_bounded_number_of_queries(coordinator_client, world, django_assert_max_num_queries):
    # One reach report per distinct period (the period, 12 months, the season months not among them, two
    # seasons: 21 here), each a query or two: 31 queries, whatever the data size.
    with django_assert_max_num_queries(40):
        assert coordinator_client.get(site_url(world["street"]), Q2).status_code == 200


def test_an_unknown_site_is_404(coordinator_client, world):
    assert coordinator_client.get("/reports/sites/999999/", Q2).status_code == 404


# The period report and its files ----------------------------------------------------


def test_the_period_report_suppresses_small_counts_on_its_page(coordinator_client, world):
    response = coordinator_client.get(PERIOD, Q2)
    assert response.status_code == 200
    gender = rows(table(response, "by_gender"))
    # 11 female, 1 male, 3 unknown (team B's): two small cells, nothing more to hide.
    assert gender["Female"][0] == 11
    assert gender["Male"][0] == "<5"
    assert gender["Unknown"][0] == "<5"
    assert table(response, "by_gender").total.values[0] == 15


def test_secondary_suppression_in_the_period_report(coordinator_client, world, team_a):
    response = coordinator_client.get(PERIOD, {**Q2, "team": team_a.pk})
    gender = table(response, "by_gender")
    # Team A alone: 11 female, 1 male, total 12 shown: 12 − 11 would give the male count back.
    assert rows(gender)["Male"][0] == "<5"
    assert rows(gender)["Female"][0] == "x"
    assert gender.total.values[0] == 12


def test_producing_a_report_writes_an_audit_entry(coordinator_client, world, coordinator, team_a):
    before = AuditEntry.objects.count()
    response = coordinator_client.get(PERIOD, {**Q2, "format": "xlsx", "team": team_a.pk, "site_type": "street"})
    assert response.status_code == 200
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.latest("at")
    assert entry.actor == coordinator
    assert entry.action == "export"
    assert entry.changes == [
        "period_report",
        "period=2026-04-01/2026-06-30",
        "format=xlsx",
        "site_type=street",
        f"team={team_a.pk}",
    ]


def test_the_xlsx_has_every_table_with_small_counts_suppressed(coordinator_client, world, team_a):
    response = coordinator_client.get(PERIOD, {**Q2, "format": "xlsx", "team": team_a.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="period-report-2026-04-01-2026-06-30.xlsx"' in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert {"key_figures", "by_gender", "reach_by_site", "referral_funnel", "communication"} <= set(workbook.sheetnames)
    gender = {row[0]: row[1] for row in workbook["by_gender"].iter_rows(min_row=3, values_only=True) if row[0]}
    assert gender["Male"] == "<5"
    assert gender["Female"] == "x"
    assert gender["Total"] == 12
    funnel = {row[0]: row[1:4] for row in workbook["referral_funnel"].iter_rows(min_row=3, values_only=True)}
    assert funnel["Housing services"] == ("<5", "<5", "<5")


def test_each_table_downloads_as_csv_with_small_counts_suppressed(coordinator_client, world, team_a):
    response = coordinator_client.get(PERIOD, {**Q2, "format": "csv", "table": "by_gender", "team": team_a.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0] == ["", "Q2 2026", "Q1 2026"]
    assert ["Male", "<5", "0"] in lines
    assert ["Female", "x", "0"] in lines
    assert ["Total", "12", "0"] in lines


def test_a_csv_without_a_known_table_is_400_naming_table(coordinator_client, world):
    response = coordinator_client.get(PERIOD, {**Q2, "format": "csv", "table": "persons_by_name"})
    assert response.status_code == 400
    assert "<code>table</code>" in response.content.decode()


def test_the_pdf_has_the_tables_with_small_counts_suppressed(coordinator_client, world, team_a):
    PeriodEvaluation.objects.create(
        start=datetime.date(2026, 4, 1), end=datetime.date(2026, 6, 30), lessons="The street reached few people."
    )
    response = coordinator_client.get(PERIOD, {**Q2, "format": "pdf", "team": team_a.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Period report: Q2 2026" in text
    assert "The street reached few people." in text
    assert re.search(r"Male\s+<5\s+0", text)
    assert re.search(r"Female\s+x\s+0", text)
    assert not re.search(r"Male\s+1\b", text)
    assert "Emergency housing is full every week." in text
    assert "Presentation" in text


def test_the_feedback_mean_needs_seven_answers_everywhere(coordinator_client, world):
    def mean_in_exports():
        page = rows(table(coordinator_client.get(PERIOD, Q2), "feedback"))["Mean score (1–5)"][0]
        workbook = load_workbook(io.BytesIO(coordinator_client.get(PERIOD, {**Q2, "format": "xlsx"}).content))
        cell = {row[0]: row[1] for row in workbook["feedback"].iter_rows(min_row=3, values_only=True)}
        lines = list(
            csv.reader(
                io.StringIO(
                    coordinator_client.get(PERIOD, {**Q2, "format": "csv", "table": "feedback"}).content.decode()
                )
            )
        )
        return page, cell["Mean score (1–5)"], lines[2][1]

    # Six answers of 4: no mean anywhere.
    assert mean_in_exports() == (None, None, "")
    feedback_record(site=world["food"], outing=world["o1"], given_on=datetime.date(2026, 4, 8), score=1)
    # Seven answers: (6 × 4 + 1) / 7 = 3.57.
    assert mean_in_exports() == (3.57, 3.57, "3.57")


def test_the_period_report_needs_a_bounded_number_of_queries(coordinator_client, world, django_assert_max_num_queries):
    # The dashboard's reads, the feedback breakdowns and comments, the network figures: constant in the data.
    with django_assert_max_num_queries(36):
        assert coordinator_client.get(PERIOD, {**Q2, "format": "xlsx"}).status_code == 200


def test_the_report_agrees_with_the_summary_endpoint(coordinator_client, world, coordinator):
    summary = coordinator_client.get("/api/v1/reports/summary/", Q2).json()
    report = build_report(
        user=coordinator, period=Period(datetime.date(2026, 4, 1), datetime.date(2026, 6, 30)), filters={}
    )
    figures = {row.key: row.values[0] for row in report["tables"][0].rows}
    for key in (
        "encounters_total",
        "persons_reached",
        "persons_new",
        "outings_done",
        "outing_hours",
        "referrals_total",
    ):
        assert figures[key] == summary[key]


# The period's evaluation ----------------------------------------------------------------


def test_a_coordinator_writes_the_periods_evaluation(coordinator_client, world, coordinator):
    data = {"start": "2026-04-01", "end": "2026-06-30", "successes": "A", "challenges": "B", "lessons": "C"}
    response = coordinator_client.post("/reports/period/evaluation/", data)
    assert response.status_code == 302
    evaluation = PeriodEvaluation.objects.get()
    assert (evaluation.successes, evaluation.challenges, evaluation.lessons) == ("A", "B", "C")
    assert evaluation.updated_by == coordinator
    assert AuditEntry.objects.filter(model="reports.periodevaluation", action="create", actor=coordinator).exists()
    coordinator_client.post("/reports/period/evaluation/", {**data, "lessons": "D"})
    assert PeriodEvaluation.objects.get().lessons == "D"
    assert PeriodEvaluation.objects.count() == 1


def test_a_worker_cannot_write_the_evaluation(client, world, worker_a):
    client.force_login(worker_a)
    data = {"start": "2026-04-01", "end": "2026-06-30", "successes": "A"}
    assert client.post("/reports/period/evaluation/", data).status_code == 403
    assert not PeriodEvaluation.objects.exists()


def test_an_evaluation_ending_before_it_starts_is_400(coordinator_client, world):
    data = {"start": "2026-06-30", "end": "2026-04-01", "successes": "A"}
    response = coordinator_client.post("/reports/period/evaluation/", data)
    assert response.status_code == 400
    assert "<code>end</code>" in response.content.decode()
    assert not PeriodEvaluation.objects.exists()


def test_a_ratio_is_hidden_only_with_the_counts_it_is_computed_from(coordinator_client, world, team_a):
    reach = rows(table(coordinator_client.get(PERIOD, {**Q2, "team": team_a.pk}), "reach_by_site"))
    # Food: 2 outings are few, but 8 encounters and 12 tallied contacts are not: 20 contacts in 6 h stay.
    assert reach["Food"] == ["<5", 6.0, 8, 7, 12, 3.33, 1.17]
    # Street: 2 encounters and 1 conversation in 1 h would give the hidden counts back.
    assert reach["Street"] == ["<5", 1.0, "<5", "<5", 0, "–", "–"]


def test_observations_and_communication_are_counted_plainly_in_the_files(coordinator_client, world):
    # The report lists the observations themselves; their number is not a count of people.
    workbook = load_workbook(io.BytesIO(coordinator_client.get(PERIOD, {**Q2, "format": "xlsx"}).content))
    observations = {row[0]: row[1] for row in workbook["observations"].iter_rows(min_row=3, values_only=True)}
    assert observations["Housing and homelessness"] == 1
    communication = {row[0]: row[1:3] for row in workbook["communication"].iter_rows(min_row=3, values_only=True)}
    assert communication["Presentation"] == (1, 40)
