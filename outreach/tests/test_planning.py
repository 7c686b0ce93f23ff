"""Planning outings: the agenda, planning and changing, cancelling, and recurring schedules."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from outreach import services
from outreach.models import AuditEntry, Outing
from outreach.tests.factories import FieldSiteFactory, OutingFactory, TeamFactory, UserFactory
from outreach.vocabulary import OutingStatus, SiteType

AGENDA = reverse("outreach:outing_list")
PLAN = reverse("outreach:outing_create")
GENERATE = reverse("outreach:outings_generate")


def html(response) -> str:
    return response.content.decode()


def agenda_outings(response) -> list[Outing]:
    return [outing for _day, outings in response.context["days"] for outing in outings]


def next_year(day: datetime.date) -> datetime.date:
    """The same weekday 52 weeks later: the calendar cases of these tests, moved ahead of the real today (a
    planned outing is not dated weeks back)."""
    return day + datetime.timedelta(weeks=52)


def monday_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def week_param(day: datetime.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def site(db):
    return FieldSiteFactory(name="Food bank Männistö")


def plan_data(team, site, day, **extra) -> dict:
    data = {
        "team": team.pk,
        "site": site.pk,
        "date": day.isoformat(),
        "start_time": "10:00",
        "end_time": "12:00",
        "notes": "Bring leaflets",
    }
    data.update(extra)
    return data


# -- Agenda ------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_agenda_redirects_to_login(client):
    response = client.get(AGENDA)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_worker_agenda_shows_the_week_of_own_teams_by_day(client, worker_a, team_a, team_b, today):
    monday = monday_of(today)
    planned = OutingFactory(
        team=team_a, site=FieldSiteFactory(name="Planned site"), date=monday, status=OutingStatus.PLANNED
    )
    done = OutingFactory(team=team_a, site=FieldSiteFactory(name="Done site"), date=monday + datetime.timedelta(2))
    cancelled = OutingFactory(
        team=team_a,
        site=FieldSiteFactory(name="Cancelled site"),
        date=monday + datetime.timedelta(6),
        status=OutingStatus.CANCELLED,
    )
    OutingFactory(team=team_b, site=FieldSiteFactory(name="Team B site"), date=monday)
    OutingFactory(team=team_a, site=FieldSiteFactory(name="Next week site"), date=monday + datetime.timedelta(7))
    client.force_login(worker_a)

    response = client.get(AGENDA)

    assert response.status_code == 200
    content = html(response)
    for name in ("Planned site", "Done site", "Cancelled site"):
        assert name in content
    assert agenda_outings(response) == [planned, done, cancelled]
    days = dict(response.context["days"])
    assert list(days) == [monday + datetime.timedelta(offset) for offset in range(7)]
    assert days[monday] == [planned]
    assert days[monday + datetime.timedelta(2)] == [done]
    assert days[monday + datetime.timedelta(6)] == [cancelled]
    assert "Cancelled" in content
    assert "Done" in content
    assert "Planned" in content
    # Workers plan: the buttons are there, for planned outings only.
    assert f'href="{PLAN}"' in content
    assert reverse("outreach:outing_edit", args=[planned.pk]) in content
    assert reverse("outreach:outing_edit", args=[done.pk]) not in content
    assert reverse("outreach:outing_cancel", args=[cancelled.pk]) not in content


def test_agenda_moves_week_by_week(client, worker_a, team_a):
    in_week = OutingFactory(team=team_a, site=FieldSiteFactory(name="Week 22 site"), date=datetime.date(2026, 5, 27))
    client.force_login(worker_a)

    by_week = client.get(AGENDA, {"week": "2026-W22"})
    by_start = client.get(AGENDA, {"start": "2026-05-29"})

    for response in (by_week, by_start):
        assert response.status_code == 200
        assert response.context["monday"] == datetime.date(2026, 5, 25)
        assert dict(response.context["days"])[in_week.date] == [in_week]
    assert "week=2026-W21" in by_week.context["previous_url"]
    assert "week=2026-W23" in by_week.context["next_url"]
    # The filter form carries the week shown, so that changing a filter keeps it.
    assert 'name="start" value="2026-05-25"' in html(by_week)


def test_agenda_names_a_bad_week_and_shows_this_week(client, worker_a, today):
    client.force_login(worker_a)

    response = client.get(AGENDA, {"week": "2026-W99"})

    assert response.status_code == 200
    assert response.context["monday"] == monday_of(today)
    assert "Week: Enter a week as year and week number, e.g. 2026-W22.</a>" in html(response)


def test_agenda_filters_by_team_site_and_status(client, coordinator, with_totp, team_a, team_b, today):
    with_totp(coordinator)
    site_1, site_2 = FieldSiteFactory(name="Site one"), FieldSiteFactory(name="Site two")
    a1 = OutingFactory(team=team_a, site=site_1, date=today, status=OutingStatus.PLANNED)
    OutingFactory(team=team_a, site=site_2, date=today)
    b1 = OutingFactory(team=team_b, site=site_1, date=today)
    client.force_login(coordinator)

    everything = client.get(AGENDA)
    by_team = client.get(AGENDA, {"team": team_b.pk})
    by_site = client.get(AGENDA, {"site": site_1.pk})
    by_status = client.get(AGENDA, {"status": "planned"})

    # A coordinator sees the teams of their area.
    assert everything.context["outing_count"] == 3
    assert dict(by_team.context["days"])[today] == [b1]
    assert set(dict(by_site.context["days"])[today]) == {a1, b1}
    assert dict(by_status.context["days"])[today] == [a1]


def test_agenda_team_filter_offers_only_visible_teams(client, worker_a, team_b, today):
    OutingFactory(team=team_b, site=FieldSiteFactory(name="Team B site"), date=today)
    client.force_login(worker_a)

    response = client.get(AGENDA, {"team": team_b.pk})

    assert response.status_code == 200
    assert agenda_outings(response) == []
    assert "team" in response.context["filters"].errors


def test_expert_sees_only_outings_they_take_part_in_and_cannot_plan(client, expert_a, worker_a, team_a, today):
    mine = OutingFactory(team=team_a, site=FieldSiteFactory(name="With expert"), date=today, participants=[expert_a])
    OutingFactory(team=team_a, site=FieldSiteFactory(name="Without expert"), date=today, participants=[worker_a])
    client.force_login(expert_a)

    response = client.get(AGENDA)

    content = html(response)
    assert response.status_code == 200
    assert agenda_outings(response) == [mine]
    assert f'href="{PLAN}"' not in content
    assert GENERATE not in content
    assert reverse("outreach:outing_edit", args=[mine.pk]) not in content


def test_agenda_flags_an_out_of_season_outing(client, worker_a, team_a):
    street = FieldSiteFactory(name="Market square", site_type=SiteType.STREET, season_start_month=4, season_end_month=9)
    OutingFactory(team=team_a, site=street, date=datetime.date(2026, 1, 13), status=OutingStatus.PLANNED)
    OutingFactory(team=team_a, site=street, date=datetime.date(2026, 5, 12), status=OutingStatus.PLANNED)
    client.force_login(worker_a)

    winter = client.get(AGENDA, {"week": "2026-W03"})
    spring = client.get(AGENDA, {"week": "2026-W20"})

    assert "Out of season" in html(winter)
    assert "Out of season" not in html(spring)


def test_agenda_query_count_does_not_grow_with_outings(client, worker_a, team_a, today, django_assert_max_num_queries):
    colleagues = [UserFactory(teams=[team_a]) for _ in range(3)]
    for hour in range(8, 20):
        OutingFactory(
            team=team_a,
            site=FieldSiteFactory(),
            date=today,
            start_time=datetime.time(hour),
            end_time=None,
            participants=colleagues,
        )
    client.force_login(worker_a)

    with django_assert_max_num_queries(12):
        response = client.get(AGENDA)

    assert response.context["outing_count"] == 12


# -- Planning an outing --------------------------------------------------------


def test_worker_plans_an_outing(client, worker_a, expert_a, team_a, site, today):
    day = today + datetime.timedelta(days=3)
    client.force_login(worker_a)

    response = client.get(PLAN)
    assert response.status_code == 200
    # One team: it is not asked.
    assert response.context["form"].single_team == team_a

    response = client.post(PLAN, plan_data(team_a, site, day, participants=[worker_a.pk, expert_a.pk]))

    assert response.status_code == 302
    assert response.url == f"{AGENDA}?week={week_param(day)}"
    outing = Outing.objects.get()
    assert (outing.team, outing.site, outing.date) == (team_a, site, day)
    assert (outing.start_time, outing.end_time) == (datetime.time(10), datetime.time(12))
    assert outing.status == OutingStatus.PLANNED
    assert outing.notes == "Bring leaflets"
    assert set(outing.participants.all()) == {worker_a, expert_a}
    assert outing.created_by == worker_a
    assert AuditEntry.objects.filter(
        model="outreach.outing", object_id=str(outing.pk), actor=worker_a, action="create"
    ).exists()


def test_planning_prefills_date_and_site_from_links(client, worker_a, team_a):
    site = FieldSiteFactory(
        team=team_a,
        schedule_weekday=1,
        schedule_start_time=datetime.time(9),
        schedule_end_time=datetime.time(11),
        schedule_every_weeks=1,
    )
    client.force_login(worker_a)

    response = client.get(PLAN, {"date": "2026-06-02", "site": site.pk})

    form = response.context["form"]
    assert form.initial["date"] == datetime.date(2026, 6, 2)
    assert form.initial["site"] == site.pk
    assert form.initial["start_time"] == datetime.time(9)


def test_plan_with_end_before_start_names_end_time_and_keeps_input(client, worker_a, team_a, site, today):
    client.force_login(worker_a)

    response = client.post(
        PLAN, plan_data(team_a, site, today, start_time="12:00", end_time="11:00", notes="Keep this text")
    )

    assert response.status_code == 200
    assert response.context["form"].errors["end_time"] == ["An outing must end after it starts."]
    content = html(response)
    assert 'href="#id_end_time">End time: An outing must end after it starts.</a>' in content
    assert 'aria-invalid="true"' in content
    # Nothing typed is lost.
    assert "Keep this text" in content
    assert 'value="12:00"' in content
    assert f'<option value="{site.pk}" selected>' in content
    assert not Outing.objects.exists()


def test_plan_for_a_foreign_team_is_refused(client, worker_a, team_b, site, today):
    client.force_login(worker_a)

    response = client.post(PLAN, plan_data(team_b, site, today))

    assert response.status_code == 200
    assert "team" in response.context["form"].errors
    assert not Outing.objects.exists()


def test_participants_must_belong_to_the_team(client, worker_a, worker_b, team_a, site, today):
    client.force_login(worker_a)

    response = client.post(PLAN, plan_data(team_a, site, today, participants=[worker_a.pk, worker_b.pk]))

    assert response.status_code == 200
    assert "participants" in response.context["form"].errors
    assert not Outing.objects.exists()


def test_coordinator_plans_for_a_team_of_the_area(client, coordinator, with_totp, team_b, worker_b, site, today):
    with_totp(coordinator)
    client.force_login(coordinator)

    page = client.get(PLAN)
    # Several teams: the team is asked, and each person is shown with theirs.
    assert page.context["form"].single_team is None
    assert f"{worker_b.get_full_name()} · Team B" in html(page)

    response = client.post(PLAN, plan_data(team_b, site, today, participants=[worker_b.pk]))

    assert response.status_code == 302
    outing = Outing.objects.get()
    assert outing.team == team_b
    assert list(outing.participants.all()) == [worker_b]


@pytest.mark.parametrize("role_fixture", ["expert_a", "admin_user"])
def test_experts_and_admins_without_team_cannot_plan(client, request, role_fixture, with_totp, team_a, site, today):
    user = request.getfixturevalue(role_fixture)
    with_totp(user)
    client.force_login(user)

    assert client.get(PLAN).status_code == 403
    assert client.post(PLAN, plan_data(team_a, site, today)).status_code == 403
    assert client.post(GENERATE, {"team": team_a.pk, "weeks": 4}).status_code == 403
    assert not Outing.objects.exists()


def test_inactive_sites_are_not_offered(client, worker_a, team_a, today):
    inactive = FieldSiteFactory(name="Closed day centre", active=False)
    client.force_login(worker_a)

    page = client.get(PLAN)
    response = client.post(PLAN, plan_data(team_a, inactive, today))

    assert "Closed day centre" not in html(page)
    assert "site" in response.context["form"].errors
    assert not Outing.objects.exists()


def test_street_site_out_of_season_is_flagged_and_planned_after_confirmation(client, worker_a, team_a):
    street = FieldSiteFactory(name="Market square", site_type=SiteType.STREET, season_start_month=4, season_end_month=9)
    winter_day = next_year(datetime.date(2026, 1, 15))
    client.force_login(worker_a)

    warned = client.post(PLAN, plan_data(team_a, street, winter_day))

    assert warned.status_code == 200
    errors = warned.context["form"].errors["confirm_out_of_season"]
    assert "Market square is out of season on this date (season April–September)." in errors[0]
    assert "Plan it anyway" in html(warned)
    assert not Outing.objects.exists()

    confirmed = client.post(PLAN, plan_data(team_a, street, winter_day, confirm_out_of_season="on"))

    assert confirmed.status_code == 302
    assert Outing.objects.get().date == winter_day


def test_street_site_in_season_needs_no_confirmation(client, worker_a, team_a):
    street = FieldSiteFactory(site_type=SiteType.STREET, season_start_month=4, season_end_month=9)
    client.force_login(worker_a)

    response = client.post(PLAN, plan_data(team_a, street, next_year(datetime.date(2026, 6, 4))))

    assert response.status_code == 302
    assert Outing.objects.count() == 1


def test_planning_needs_the_csrf_token(worker_a, team_a, site, today):
    client = Client(enforce_csrf_checks=True)
    client.force_login(worker_a)

    response = client.post(PLAN, plan_data(team_a, site, today))

    assert response.status_code == 403
    assert not Outing.objects.exists()


# -- Changing a planned outing -----------------------------------------------------


def test_worker_changes_a_planned_outing(client, worker_a, expert_a, team_a, site, today):
    outing = OutingFactory(team=team_a, site=site, date=today, status=OutingStatus.PLANNED, participants=[worker_a])
    other_site = FieldSiteFactory(name="Day centre")
    url = reverse("outreach:outing_edit", args=[outing.pk])
    client.force_login(worker_a)

    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"].initial["participants"] == [worker_a.pk]

    response = client.post(
        url,
        {
            "site": other_site.pk,
            "date": (today + datetime.timedelta(days=1)).isoformat(),
            "start_time": "13:00",
            "end_time": "15:30",
            "participants": [expert_a.pk],
            "notes": "",
        },
    )

    assert response.status_code == 302
    outing.refresh_from_db()
    assert outing.site == other_site
    assert outing.date == today + datetime.timedelta(days=1)
    assert (outing.start_time, outing.end_time) == (datetime.time(13), datetime.time(15, 30))
    assert list(outing.participants.all()) == [expert_a]
    assert outing.team == team_a
    entry = AuditEntry.objects.get(model="outreach.outing", object_id=str(outing.pk), action="update")
    assert set(entry.changes) >= {"site", "date", "start_time", "end_time", "participants"}


def test_only_planned_outings_are_changed_here(client, worker_a, team_a, site, today):
    outing = OutingFactory(team=team_a, site=site, date=today, status=OutingStatus.DONE)
    client.force_login(worker_a)

    response = client.post(
        reverse("outreach:outing_edit", args=[outing.pk]),
        {"site": site.pk, "date": today.isoformat(), "start_time": "08:00", "end_time": "09:00"},
    )

    assert response.status_code == 302
    outing.refresh_from_db()
    assert outing.start_time == datetime.time(10)


@pytest.mark.parametrize("name", ["outreach:outing_edit", "outreach:outing_cancel"])
def test_other_team_and_expert_not_on_the_outing_get_404(client, name, worker_b, expert_a, team_a, site, today):
    outing = OutingFactory(team=team_a, site=site, date=today, status=OutingStatus.PLANNED)
    url = reverse(name, args=[outing.pk])
    data = {"site": site.pk, "date": today.isoformat(), "start_time": "08:00", "end_time": "09:00", "reason": "x"}

    for user in (worker_b, expert_a):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url, data).status_code == 404

    outing.refresh_from_db()
    assert outing.status == OutingStatus.PLANNED
    assert outing.start_time == datetime.time(10)


@pytest.mark.parametrize("name", ["outreach:outing_edit", "outreach:outing_cancel"])
def test_expert_on_the_outing_gets_403(client, name, expert_a, team_a, site, today):
    outing = OutingFactory(team=team_a, site=site, date=today, status=OutingStatus.PLANNED, participants=[expert_a])
    client.force_login(expert_a)

    assert client.get(reverse(name, args=[outing.pk])).status_code == 403
    assert client.post(reverse(name, args=[outing.pk]), {"reason": "x"}).status_code == 403
    outing.refresh_from_db()
    assert outing.status == OutingStatus.PLANNED


# -- Cancelling ---------------------------------------------------------------


def test_cancelling_keeps_the_record_with_the_reason(client, worker_a, team_a, site, today):
    outing = OutingFactory(
        team=team_a, site=site, date=today, status=OutingStatus.PLANNED, notes="Meet at the door", participants=[]
    )
    url = reverse("outreach:outing_cancel", args=[outing.pk])
    client.force_login(worker_a)

    confirm = client.get(url)
    outing.refresh_from_db()
    assert confirm.status_code == 200
    assert outing.status == OutingStatus.PLANNED  # a GET changes nothing

    response = client.post(url, {"reason": "Two workers ill"})

    assert response.status_code == 302
    outing.refresh_from_db()
    assert outing.status == OutingStatus.CANCELLED
    assert outing.notes == "Meet at the door\n\nCancelled: Two workers ill"
    assert AuditEntry.objects.filter(
        model="outreach.outing", object_id=str(outing.pk), action="update", changes=["notes", "status"]
    ).exists()
    agenda = client.get(AGENDA)
    assert dict(agenda.context["days"])[today] == [outing]
    assert "Cancelled" in html(agenda)


def test_cancel_service_rules(worker_a, worker_b, expert_a, team_a, site, today):
    outing = OutingFactory(team=team_a, site=site, date=today, status=OutingStatus.PLANNED)
    done = OutingFactory(team=team_a, site=site, date=today, status=OutingStatus.DONE)

    with pytest.raises(PermissionDenied):
        services.outing_cancel(actor=expert_a, outing=outing)
    with pytest.raises(ValidationError) as error:
        services.outing_cancel(actor=worker_b, outing=outing)
    assert "team" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.outing_cancel(actor=worker_a, outing=done)
    assert "status" in error.value.message_dict

    services.outing_cancel(actor=worker_a, outing=outing)
    services.outing_cancel(actor=worker_a, outing=outing, reason="again")

    outing.refresh_from_db()
    assert outing.status == OutingStatus.CANCELLED
    assert outing.notes == ""  # the second cancel changed nothing
    assert AuditEntry.objects.filter(model="outreach.outing", object_id=str(outing.pk)).count() == 1


# -- Recurring schedules ----------------------------------------------------------


def scheduled_site(team, weekday=1, every=1, start=datetime.time(10), end=datetime.time(12), **kwargs):
    return FieldSiteFactory(
        team=team,
        schedule_weekday=weekday,
        schedule_start_time=start,
        schedule_end_time=end,
        schedule_every_weeks=every,
        **kwargs,
    )


WEDNESDAY = next_year(datetime.date(2026, 5, 20))


def test_weekly_schedule_plans_each_week_within_the_period(worker_a, team_a):
    site = scheduled_site(team_a, weekday=1, start=datetime.time(10), end=datetime.time(12))

    created = services.outings_generate_from_schedule(actor=worker_a, team=team_a, weeks=4, today=WEDNESDAY)

    assert [o.date for o in created] == [
        next_year(datetime.date(2026, 5, 26)),
        next_year(datetime.date(2026, 6, 2)),
        next_year(datetime.date(2026, 6, 9)),
        next_year(datetime.date(2026, 6, 16)),
    ]
    for outing in Outing.objects.all():
        assert (outing.team, outing.site, outing.status) == (team_a, site, OutingStatus.PLANNED)
        assert (outing.start_time, outing.end_time) == (datetime.time(10), datetime.time(12))
        assert outing.created_by == worker_a
        assert outing.date.weekday() == 1
    assert AuditEntry.objects.filter(model="outreach.outing", action="create", actor=worker_a).count() == 4


def test_schedule_includes_today_and_stops_before_the_end(worker_a, team_a):
    scheduled_site(team_a, weekday=2)

    created = services.outings_generate_from_schedule(actor=worker_a, team=team_a, weeks=2, today=WEDNESDAY)

    assert [o.date for o in created] == [WEDNESDAY, WEDNESDAY + datetime.timedelta(weeks=1)]


def test_every_second_week_starts_at_the_first_day_without_history(worker_a, team_a):
    scheduled_site(team_a, weekday=3, every=2)

    created = services.outings_generate_from_schedule(actor=worker_a, team=team_a, weeks=6, today=WEDNESDAY)

    assert [o.date for o in created] == [
        next_year(datetime.date(2026, 5, 21)),
        next_year(datetime.date(2026, 6, 4)),
        next_year(datetime.date(2026, 6, 18)),
    ]


def test_every_second_week_keeps_the_cadence_of_earlier_outings(worker_a, team_a):
    site = scheduled_site(team_a, weekday=3, every=2)
    # The last one was a week before the first Thursday of the period.
    OutingFactory(team=team_a, site=site, date=next_year(datetime.date(2026, 5, 14)), start_time=datetime.time(10))

    created = services.outings_generate_from_schedule(actor=worker_a, team=team_a, weeks=6, today=WEDNESDAY)
    later = services.outings_generate_from_schedule(
        actor=worker_a, team=team_a, weeks=8, today=WEDNESDAY + datetime.timedelta(days=1)
    )

    assert [o.date for o in created] == [
        next_year(datetime.date(2026, 5, 28)),
        next_year(datetime.date(2026, 6, 11)),
        next_year(datetime.date(2026, 6, 25)),
    ]
    # A later run on another day keeps the same cadence and adds only the new week.
    assert [o.date for o in later] == [next_year(datetime.date(2026, 7, 9))]


def test_generation_is_idempotent_and_any_existing_outing_blocks(worker_a, team_a):
    site = scheduled_site(team_a, weekday=1)
    OutingFactory(
        team=team_a,
        site=site,
        date=next_year(datetime.date(2026, 5, 26)),
        start_time=datetime.time(10),
        status="cancelled",
    )
    # A different start time is another outing: it does not block.
    OutingFactory(
        team=team_a, site=site, date=next_year(datetime.date(2026, 6, 2)), start_time=datetime.time(14), end_time=None
    )

    first = services.outings_generate_from_schedule(actor=worker_a, team=team_a, weeks=4, today=WEDNESDAY)
    count = Outing.objects.count()
    second = services.outings_generate_from_schedule(actor=worker_a, team=team_a, weeks=4, today=WEDNESDAY)

    assert [o.date for o in first] == [
        next_year(datetime.date(2026, 6, 2)),
        next_year(datetime.date(2026, 6, 9)),
        next_year(datetime.date(2026, 6, 16)),
    ]
    assert second == []
    assert Outing.objects.count() == count == 5
    cancelled = Outing.objects.get(date=next_year(datetime.date(2026, 5, 26)))
    assert cancelled.status == OutingStatus.CANCELLED


def test_generation_skips_inactive_unscheduled_and_other_teams_sites(worker_a, team_a, team_b):
    scheduled_site(team_a, weekday=1, active=False)
    FieldSiteFactory(team=team_a)
    scheduled_site(team_b, weekday=1)
    scheduled_site(None, weekday=1)

    created = services.outings_generate_from_schedule(actor=worker_a, team=team_a, weeks=4, today=WEDNESDAY)

    assert created == []
    assert not Outing.objects.exists()


def test_generation_skips_days_outside_the_seasonal_window(worker_a, team_a):
    scheduled_site(team_a, weekday=3, site_type=SiteType.STREET, season_start_month=4, season_end_month=9)

    created = services.outings_generate_from_schedule(
        actor=worker_a, team=team_a, weeks=4, today=next_year(datetime.date(2026, 9, 14))
    )

    # Thursdays from Monday 13 September 2027: the 16th, 23rd and 30th; 7 October is out of season.
    assert [o.date for o in created] == [
        datetime.date(2027, 9, 16),
        datetime.date(2027, 9, 23),
        datetime.date(2027, 9, 30),
    ]


def test_generation_permissions(worker_b, expert_a, team_a):
    scheduled_site(team_a)

    with pytest.raises(PermissionDenied):
        services.outings_generate_from_schedule(actor=expert_a, team=team_a, today=WEDNESDAY)
    with pytest.raises(ValidationError) as error:
        services.outings_generate_from_schedule(actor=worker_b, team=team_a, today=WEDNESDAY)
    assert "team" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.outings_generate_from_schedule(actor=None, team=team_a, weeks=0, today=WEDNESDAY)
    assert "weeks" in error.value.message_dict
    assert not Outing.objects.exists()

    created = services.outings_generate_from_schedule(actor=None, team=team_a, weeks=1, today=WEDNESDAY)

    assert len(created) == 1
    assert created[0].created_by is None
    assert AuditEntry.objects.get(model="outreach.outing").actor is None


def test_generate_button_plans_the_schedules(client, worker_a, team_a, today):
    scheduled_site(team_a, weekday=today.weekday())
    client.force_login(worker_a)

    assert client.get(GENERATE).status_code == 405
    response = client.post(GENERATE, {"team": team_a.pk, "weeks": 3}, follow=True)

    assert response.status_code == 200
    assert Outing.objects.filter(team=team_a, status=OutingStatus.PLANNED).count() == 3
    assert "3 outings planned from the sites&#x27; recurring schedules." in html(response)

    again = client.post(GENERATE, {"team": team_a.pk, "weeks": 3}, follow=True)

    assert Outing.objects.count() == 3
    assert "Nothing new to plan" in html(again)


def test_generate_button_refuses_another_team_and_bad_weeks(client, worker_a, team_a, team_b):
    scheduled_site(team_b, weekday=1)
    scheduled_site(team_a, weekday=1)
    client.force_login(worker_a)

    foreign = client.post(GENERATE, {"team": team_b.pk, "weeks": 4}, follow=True)
    too_far = client.post(GENERATE, {"team": team_a.pk, "weeks": 99}, follow=True)

    assert "Team: Select a valid choice." in html(foreign)
    assert "Weeks ahead: Ensure this value is less than or equal to 26." in html(too_far)
    assert not Outing.objects.exists()


def test_management_command_plans_for_every_team_with_schedules(team_a, team_b, today):
    scheduled_site(team_a, weekday=today.weekday())
    scheduled_site(team_b, weekday=today.weekday(), every=2)
    retired = TeamFactory(name="Retired", active=False)
    scheduled_site(retired, weekday=today.weekday())

    call_command("generate_planned_outings", "--weeks", "4", verbosity=0)

    assert Outing.objects.filter(team=team_a).count() == 4
    assert Outing.objects.filter(team=team_b).count() == 2
    assert not Outing.objects.filter(team=retired).exists()
    assert not Outing.objects.exclude(status=OutingStatus.PLANNED).exists()
    assert set(Outing.objects.values_list("created_by", flat=True)) == {None}

    call_command("generate_planned_outings", "--weeks", "4", verbosity=0)

    assert Outing.objects.count() == 6


def test_management_command_refuses_bad_weeks(db):
    with pytest.raises(CommandError, match="--weeks"):
        call_command("generate_planned_outings", "--weeks", "0")
