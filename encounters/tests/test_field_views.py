"""The field pages: Today, starting an outing, the outing page with its quick log, tally and
finish, correcting and deleting entries. Each read goes through the selectors: a worker of
another team and an expert by experience not on the outing get 404 and cannot post."""

import datetime
import logging
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from encounters.models import Encounter, FollowUp, Person, Referral
from encounters.tests.factories import EncounterFactory, PersonFactory
from networks.models import PartnerOrganisation
from outreach.models import AccessLogEntry, AuditEntry, Outing
from outreach.tests.factories import FieldSiteFactory, OutingFactory, UserFactory
from outreach.vocabulary import OutingStatus, Role

HTMX = {"HX-Request": "true"}


def html(response) -> str:
    return response.content.decode()


def url(name: str, *args) -> str:
    return reverse(f"encounters:{name}", args=args)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def site_a(team_a):
    return FieldSiteFactory(name="Food bank Kuopio", team=team_a)


@pytest.fixture
def outing(team_a, site_a, worker_a, expert_a, today):
    """An outing in progress: planned, today, started at midnight, no end yet."""
    return OutingFactory(
        team=team_a,
        site=site_a,
        date=today,
        start_time=datetime.time(0, 0),
        end_time=None,
        status=OutingStatus.PLANNED,
        started_at=timezone.make_aware(datetime.datetime.combine(today, datetime.time(0, 0))),
        participants=[worker_a, expert_a],
    )


@pytest.fixture
def expert_elsewhere(team_a):
    """An expert by experience of the same team who does not take part in the outing."""
    return UserFactory(email="expert.elsewhere@example.org", role=Role.EXPERT, teams=[team_a])


def quick_log(**fields) -> dict:
    """The form as the phone sends it: the three taps (gender, age group, Save) and the defaults."""
    data = {
        "client_uuid": str(uuid.uuid4()),
        "depth": "conversation",
        "gender": "female",
        "age_group": "30_39",
        "contact_kind": "field",
        "first_contact": "",
        "person": "",
        "referral_service_kind": "",
        "referral_status": "suggested",
    }
    data.update(fields)
    return data


# Home and Today -----------------------------------------------------------------------------


@pytest.mark.parametrize("role_fixture", ["worker_a", "expert_a"])
def test_home_sends_workers_and_experts_to_their_day(client, request, role_fixture):
    client.force_login(request.getfixturevalue(role_fixture))

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.url == url("today")


def test_coordinator_keeps_their_home(client, coordinator, with_totp):
    client.force_login(with_totp(coordinator))

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert "outreach/home.html" in [t.name for t in response.templates]


def test_today_shows_the_workers_outings_follow_ups_and_the_start_action(
    client, worker_a, worker_b, team_a, team_b, site_a, outing, today
):
    later = OutingFactory(
        team=team_a,
        site=FieldSiteFactory(name="Day centre"),
        date=today + datetime.timedelta(days=2),
        status=OutingStatus.PLANNED,
        participants=[worker_a],
    )
    unfinished = OutingFactory(
        team=team_a,
        site=FieldSiteFactory(name="Library"),
        date=today - datetime.timedelta(days=3),
        status=OutingStatus.PLANNED,
        participants=[worker_a],
    )
    OutingFactory(
        team=team_b,
        site=FieldSiteFactory(name="Team B street"),
        date=today,
        status=OutingStatus.PLANNED,
        participants=[worker_b],
    )
    person = PersonFactory(team=team_a, alias="Kettu")
    mine = FollowUp.objects.create(team=team_a, person=person, assigned_to=worker_a, due_on=today)
    teams = FollowUp.objects.create(team=team_a, person=PersonFactory(team=team_a, alias="Susi"), due_on=today)
    FollowUp.objects.create(
        team=team_a, person=PersonFactory(team=team_a, alias="Done"), assigned_to=worker_a, due_on=today, done_on=today
    )
    FollowUp.objects.create(
        team=team_a,
        person=PersonFactory(team=team_a, alias="Next month"),
        assigned_to=worker_a,
        due_on=today + datetime.timedelta(days=40),
    )
    FollowUp.objects.create(team=team_b, person=PersonFactory(team=team_b, alias="Karhu"), due_on=today)
    client.force_login(worker_a)

    response = client.get(url("today"))

    assert response.status_code == 200
    content = html(response)
    assert response.context["in_progress"] == [outing]
    assert response.context["upcoming"] == [later]
    assert response.context["unfinished"] == [unfinished]
    assert response.context["follow_ups"] == [mine, teams]
    assert f'href="{url("outing_start")}"' in content
    assert f'href="{url("outing_detail", outing.pk)}"' in content
    assert "Team B street" not in content
    assert "Karhu" not in content
    assert "Next month" not in content


def test_today_for_an_expert_lists_only_their_outings_and_no_follow_ups_or_start(
    client, expert_a, worker_a, team_a, outing, today
):
    OutingFactory(
        team=team_a,
        site=FieldSiteFactory(name="Without the expert"),
        date=today,
        status=OutingStatus.PLANNED,
        participants=[worker_a],
    )
    FollowUp.objects.create(team=team_a, person=PersonFactory(team=team_a, alias="Kettu"), due_on=today)
    client.force_login(expert_a)

    response = client.get(url("today"))

    assert response.status_code == 200
    content = html(response)
    assert response.context["in_progress"] == [outing]
    assert "Without the expert" not in content
    assert "Kettu" not in content
    assert 'id="follow-ups"' not in content
    assert url("outing_start") not in content


def test_today_runs_a_bounded_number_of_queries(client, worker_a, team_a, today, django_assert_max_num_queries):
    for days in range(8):
        site = FieldSiteFactory()
        OutingFactory(
            team=team_a,
            site=site,
            date=today + datetime.timedelta(days=days - 3),
            status=OutingStatus.PLANNED,
            participants=[worker_a],
        )
        FollowUp.objects.create(team=team_a, person=PersonFactory(team=team_a), assigned_to=worker_a, due_on=today)
        # The team's other outings today, without this worker.
        colleague = UserFactory(role=Role.WORKER, teams=[team_a])
        OutingFactory(team=team_a, site=site, date=today, status=OutingStatus.PLANNED, participants=[colleague])
    client.force_login(worker_a)

    # Session, user, then one query per section and one per prefetch, however many rows.
    with django_assert_max_num_queries(
        15
    ):  # 13th: the access-log rows of the persons shown; partner confirmations and network tasks
        response = client.get(url("today"))

    assert response.status_code == 200


def test_a_follow_up_is_marked_done_from_today(client, worker_a, worker_b, team_a, today):
    follow_up = FollowUp.objects.create(team=team_a, person=PersonFactory(team=team_a), due_on=today)
    client.force_login(worker_b)
    assert client.post(url("follow_up_done", follow_up.pk)).status_code == 404
    client.force_login(worker_a)

    response = client.post(url("follow_up_done", follow_up.pk))

    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.done_on == today
    assert AuditEntry.objects.filter(model="encounters.followup", object_id=str(follow_up.pk)).exists()


# Starting an outing ---------------------------------------------------------------------------


def test_start_page_lists_the_teams_sites_recently_visited_first(client, worker_a, team_a, team_b, today):
    rarely = FieldSiteFactory(name="Rarely visited", team=team_a)
    often = FieldSiteFactory(name="Visited yesterday", team=team_a)
    never = FieldSiteFactory(name="Never visited", team=team_a)
    other = FieldSiteFactory(name="Another team's site", team=team_b)
    FieldSiteFactory(name="Closed site", team=team_a, active=False)
    OutingFactory(team=team_a, site=rarely, date=today - datetime.timedelta(days=60))
    OutingFactory(team=team_a, site=often, date=today - datetime.timedelta(days=1))
    # Another team's visit does not make a site recent for this team.
    OutingFactory(team=team_b, site=never, date=today)
    client.force_login(worker_a)

    response = client.get(url("outing_start"))

    assert response.status_code == 200
    form = response.context["form"]
    own, others = form.site_choices()
    assert [choice.choice_label for choice in own] == ["Visited yesterday", "Rarely visited", "Never visited"]
    assert [choice.choice_label for choice in others] == [other.name]
    assert "Closed site" not in html(response)


def test_starting_an_outing_creates_it_now_with_the_chosen_colleagues(
    client, worker_a, expert_a, team_a, site_a, today
):
    colleague = UserFactory(full_name="Anna Korhonen", role=Role.WORKER, teams=[team_a])
    client.force_login(worker_a)
    before = timezone.localtime().replace(second=0, microsecond=0)

    response = client.post(
        url("outing_start"), {"team": team_a.pk, "site": site_a.pk, "participants": [colleague.pk, expert_a.pk]}
    )

    outing = Outing.objects.get()
    assert response.status_code == 302
    assert response.url == url("outing_detail", outing.pk)
    assert (outing.team, outing.site, outing.date, outing.status, outing.end_time) == (
        team_a,
        site_a,
        today,
        OutingStatus.PLANNED,
        None,
    )
    assert outing.start_time >= before.time()
    assert set(outing.participants.all()) == {worker_a, colleague, expert_a}
    assert AuditEntry.objects.filter(model="outreach.outing", object_id=str(outing.pk), action="create").exists()


def test_starting_without_a_site_names_the_field_and_keeps_the_choices(client, worker_a, team_a):
    colleague = UserFactory(role=Role.WORKER, teams=[team_a])
    client.force_login(worker_a)

    response = client.post(url("outing_start"), {"team": team_a.pk, "participants": [colleague.pk]})

    assert response.status_code == 200
    content = html(response)
    assert "Site: Choose the site where you are." in content
    assert f'value="{colleague.pk}" id="id_participants_0" checked' in content
    assert not Outing.objects.exists()


def test_a_worker_cannot_start_an_outing_for_another_team(client, worker_a, team_b, site_a):
    client.force_login(worker_a)

    response = client.post(url("outing_start"), {"team": team_b.pk, "site": site_a.pk})

    assert response.status_code == 200
    assert "team" in response.context["form"].errors
    assert not Outing.objects.exists()


def test_an_expert_does_not_start_outings(client, expert_a, team_a, site_a):
    client.force_login(expert_a)

    assert client.get(url("outing_start")).status_code == 403
    assert client.post(url("outing_start"), {"team": team_a.pk, "site": site_a.pk}).status_code == 403
    assert not Outing.objects.exists()


def test_a_planned_outing_of_today_is_started_from_today(client, worker_a, worker_b, team_a, site_a, today):
    planned = OutingFactory(
        team=team_a,
        site=site_a,
        date=today,
        start_time=datetime.time(23, 59),
        end_time=None,
        status=OutingStatus.PLANNED,
    )
    client.force_login(worker_b)
    assert client.post(url("outing_start_planned", planned.pk)).status_code == 404
    client.force_login(worker_a)

    response = client.post(url("outing_start_planned", planned.pk))

    assert response.status_code == 302
    assert response.url == url("outing_detail", planned.pk)
    planned.refresh_from_db()
    assert planned.start_time <= timezone.localtime().time()
    assert worker_a in planned.participants.all()


# Access to an outing's pages ------------------------------------------------------------------


@pytest.mark.parametrize("outsider_fixture", ["worker_b", "expert_elsewhere"])
def test_outsiders_get_404_for_the_outing_and_cannot_post_to_it(client, request, outing, outsider_fixture):
    client.force_login(request.getfixturevalue(outsider_fixture))

    assert client.get(url("outing_detail", outing.pk)).status_code == 404
    assert client.get(url("outing_finish", outing.pk)).status_code == 404
    assert client.post(url("outing_finish", outing.pk), {"end_time": "23:59"}).status_code == 404
    assert client.post(url("encounter_create", outing.pk), quick_log()).status_code == 404
    assert client.post(url("encounter_create", outing.pk), quick_log(), headers=HTMX).status_code == 404
    assert client.post(url("outing_tally", outing.pk), {"delta": "1"}).status_code == 404
    assert client.post(url("person_search", outing.pk), {"person_query": "Ke"}).status_code == 404
    assert client.post(url("outing_start_planned", outing.pk)).status_code == 404

    outing.refresh_from_db()
    assert (outing.tallied_contacts, outing.status, outing.end_time) == (0, OutingStatus.PLANNED, None)
    assert not Encounter.objects.exists()


def test_outsiders_get_404_for_an_encounter(client, worker_b, expert_elsewhere, worker_a, outing):
    encounter = EncounterFactory(team=outing.team, site=outing.site, outing=outing, created_by=worker_a)
    for outsider in (worker_b, expert_elsewhere):
        client.force_login(outsider)
        assert client.get(url("encounter_edit", encounter.pk)).status_code == 404
        assert client.post(url("encounter_delete", encounter.pk), {"undo": "1"}).status_code == 404
        assert client.post(url("referral_add", encounter.pk), {"referral-service_kind": "kela"}).status_code == 404
    assert Encounter.objects.filter(pk=encounter.pk).exists()
    assert not Referral.objects.exists()


def test_the_outing_page_shows_the_quick_log_tally_and_list(client, worker_a, outing, django_assert_max_num_queries):
    for _ in range(5):
        EncounterFactory(team=outing.team, site=outing.site, outing=outing, created_by=worker_a, needs=["housing"])
    client.force_login(worker_a)

    with django_assert_max_num_queries(15):
        response = client.get(url("outing_detail", outing.pk))

    assert response.status_code == 200
    content = html(response)
    assert 'id="quick-log"' in content
    assert 'id="tally"' in content
    assert 'name="client_uuid"' in content
    assert content.count('class="encounter-item"') == 5
    assert "Link to a person" in content
    assert f'href="{url("outing_finish", outing.pk)}"' in content


def test_nothing_is_logged_at_a_cancelled_or_future_outing(client, worker_a, team_a, site_a, today):
    cancelled = OutingFactory(team=team_a, site=site_a, date=today, status=OutingStatus.CANCELLED)
    future = OutingFactory(
        team=team_a, site=site_a, date=today + datetime.timedelta(days=1), status=OutingStatus.PLANNED
    )
    client.force_login(worker_a)
    for other in (cancelled, future):
        response = client.get(url("outing_detail", other.pk))
        assert response.status_code == 200
        assert 'id="quick-log"' not in html(response)
        assert client.post(url("encounter_create", other.pk), quick_log()).status_code == 403
        assert client.post(url("outing_tally", other.pk), {"delta": "1"}).status_code == 403
    assert not Encounter.objects.exists()


# The quick log ---------------------------------------------------------------------------------


def test_an_anonymous_conversation_in_three_taps(client, worker_a, expert_a, outing):
    client.force_login(worker_a)
    # The three taps: gender, age group, Save. Everything else is what the page sends by default.
    data = {
        "client_uuid": str(uuid.uuid4()),
        "depth": "conversation",
        "gender": "female",
        "age_group": "30_39",
        "contact_kind": "field",
        "referral_status": "suggested",
    }

    response = client.post(url("encounter_create", outing.pk), data)

    assert response.status_code == 302
    assert response.url == url("outing_detail", outing.pk) + "#log"
    encounter = Encounter.objects.get()
    assert (encounter.outing, encounter.site, encounter.team) == (outing, outing.site, outing.team)
    assert (encounter.depth, encounter.gender, encounter.age_group) == ("conversation", "female", "30_39")
    assert (encounter.anonymous, encounter.person, encounter.contact_kind) == (True, None, "field")
    assert str(encounter.client_uuid) == data["client_uuid"]
    assert set(encounter.workers.all()) == {worker_a, expert_a}
    assert encounter.created_by == worker_a
    assert timezone.localdate(encounter.occurred_at) == outing.date
    assert AuditEntry.objects.filter(model="encounters.encounter", object_id=str(encounter.pk)).count() == 1

    page = client.get(response.url)

    content = html(page)
    assert page.context["undo"] == encounter
    assert 'class="undo"' in content
    assert f'action="{url("encounter_delete", encounter.pk)}"' in content
    assert page.context["encounters"][0] == encounter
    # The undo is offered once: a reload does not bring it back.
    assert client.get(response.url).context["undo"] is None


def test_the_undo_rides_in_a_signed_cookie_that_only_its_user_and_outing_can_use(
    client, worker_a, team_a, site_a, outing, today
):
    client.force_login(worker_a)
    response = client.post(url("encounter_create", outing.pk), quick_log())
    encounter = Encounter.objects.get()
    cookie = response.cookies["field_undo"]
    # The ids only, signed; for the outing page alone, for a minute, not for scripts.
    assert cookie["path"] == url("outing_detail", outing.pk)
    assert cookie["max-age"] == 60
    assert cookie["httponly"]
    assert str(encounter.pk) in cookie.value
    assert worker_a.email not in cookie.value
    signed = cookie.value

    # Forged: its signature does not match.
    client.cookies["field_undo"] = signed.replace(f":{encounter.pk}:", f":{encounter.pk + 1}:")
    client.cookies["field_undo"]["path"] = url("outing_detail", outing.pk)
    assert client.get(url("outing_detail", outing.pk)).context["undo"] is None
    # Another user of the team, with the same cookie: nothing offered.
    colleague = UserFactory(role=Role.WORKER, teams=[team_a])
    outing.participants.add(colleague)
    client.force_login(colleague)
    client.cookies["field_undo"] = signed
    client.cookies["field_undo"]["path"] = url("outing_detail", outing.pk)
    assert client.get(url("outing_detail", outing.pk)).context["undo"] is None
    # The same cookie brought to another outing's page: nothing offered there.
    client.force_login(worker_a)
    other = OutingFactory(team=team_a, site=site_a, date=today, status=OutingStatus.PLANNED, participants=[worker_a])
    client.cookies["field_undo"] = signed
    assert client.get(url("outing_detail", other.pk)).context["undo"] is None


def test_nothing_chosen_is_recorded_as_unknown(client, worker_a, outing):
    client.force_login(worker_a)

    client.post(url("encounter_create", outing.pk), quick_log(gender="", age_group=""))

    encounter = Encounter.objects.get()
    assert (encounter.gender, encounter.age_group, encounter.depth) == ("unknown", "unknown", "conversation")


def _earlier_entry(outing, worker, minutes=5):
    return EncounterFactory(
        team=outing.team,
        site=outing.site,
        outing=outing,
        created_by=worker,
        occurred_at=timezone.now() - datetime.timedelta(minutes=minutes),
    )


def _oob(content: str, tag: str, element_id: str) -> str:
    """The out-of-band element of an htmx answer with that id (its whole opening tag and content)."""
    match = re.search(rf'<{tag}[^>]*id="{element_id}"[^>]*hx-swap-oob="true"[^>]*>.*?</{tag}>', content, re.S)
    if match is None:
        match = re.search(rf'<{tag}[^>]*hx-swap-oob="true"[^>]*id="{element_id}"[^>]*>.*?</{tag}>', content, re.S)
    assert match is not None, f"no out-of-band {tag}#{element_id}"
    return match.group(0)


def test_the_page_marks_its_quick_log_as_drawn_new(client, worker_a, outing):
    client.force_login(worker_a)

    page = html(client.get(url("outing_detail", outing.pk)))
    refused = html(client.post(url("encounter_create", outing.pk), quick_log(depth="nonsense"), headers=HTMX))

    assert page.count('name="quick_log_fresh" value="1"') == 1
    # Drawn again after an error the form holds what was sent: the browser could not clear it.
    assert "Depth:" in refused
    assert 'name="quick_log_fresh"' not in refused


def test_with_htmx_a_save_from_the_form_drawn_new_is_answered_with_the_new_entry_and_a_key(client, worker_a, outing):
    earlier = _earlier_entry(outing, worker_a)
    client.force_login(worker_a)
    sent = quick_log(needs=["housing", "substance_use"], quick_log_fresh="1")

    response = client.post(url("encounter_create", outing.pk), sent, headers=HTMX)

    assert response.status_code == 200
    assert next(t.name for t in response.templates) == "encounters/_quick_log_answer.html"
    new = Encounter.objects.exclude(pk=earlier.pk).get()
    assert new.needs == ["substance_use", "housing"]
    # The form stays on the page and the browser clears it (field.js): nothing is swapped in its place.
    assert (response["HX-Reswap"], response["HX-Trigger"]) == ("none", "quick-log-saved")
    content = html(response)
    assert 'id="quick-log"' not in content
    assert 'id="log"' not in content
    status = _oob(content, "div", "log-status")
    assert "data-undo-seconds" in status
    assert f'action="{url("encounter_delete", new.pk)}"' in status
    key = re.search(
        r'<input type="hidden" name="client_uuid" value="([0-9a-f-]{36})" id="id_client_uuid" '
        r'hx-swap-oob="true">',
        content,
    )
    assert key is not None
    assert key.group(1) != sent["client_uuid"]
    # Only the new entry, put on top of the page's list, and the count.
    assert re.search(
        rf'<ol hx-swap-oob="afterbegin:#encounter-list">\s*<li class="encounter-item" '
        rf'id="encounter-{new.pk}">',
        content,
    )
    assert f'id="encounter-{earlier.pk}"' not in content
    assert "Housing" in content
    assert '<span class="count" id="encounter-count" hx-swap-oob="true">(2)</span>' in content


def test_with_htmx_the_new_entry_shows_its_person_and_referral_and_the_read_is_logged(client, worker_a, outing):
    _earlier_entry(outing, worker_a)
    client.force_login(worker_a)
    sent = quick_log(quick_log_fresh="1", new_alias="Kettu", new_birth_year="1984", referral_service_kind="kela")

    response = client.post(url("encounter_create", outing.pk), sent, headers=HTMX)

    kettu = Person.objects.get(alias="Kettu")
    match = re.search(r'<li class="encounter-item" id="encounter-\d+">.*?</li>', html(response), re.S)
    assert match is not None
    entry = match.group(0)
    assert "Person: Kettu" in entry
    assert "1 referral" in entry
    assert f'href="{url("person_detail", kettu.pk)}"' in entry
    assert AccessLogEntry.objects.filter(person_id=kettu.pk, action=AccessLogEntry.Action.LIST).count() == 1


def test_with_htmx_a_save_from_a_form_drawn_after_an_error_draws_the_form_again(client, worker_a, outing):
    earlier = _earlier_entry(outing, worker_a)
    client.force_login(worker_a)
    sent = quick_log(notes="Talked about the winter shelter.")

    response = client.post(url("encounter_create", outing.pk), sent, headers=HTMX)

    assert response.status_code == 200
    assert "HX-Reswap" not in response
    assert "HX-Trigger" not in response
    new = Encounter.objects.exclude(pk=earlier.pk).get()
    content = html(response)
    assert content.lstrip().startswith('<div id="log"')
    assert "data-undo-seconds" in content
    # A fresh form with a new key for the next encounter, marked as drawn new.
    assert sent["client_uuid"] not in content
    assert "Talked about the winter shelter." not in content
    assert 'name="client_uuid"' in content
    assert 'name="quick_log_fresh" value="1"' in content
    assert f'id="encounter-{new.pk}"' in content
    assert f'id="encounter-{earlier.pk}"' not in content


def test_with_htmx_the_first_entry_draws_the_list_again(client, worker_a, outing):
    client.force_login(worker_a)

    response = client.post(url("encounter_create", outing.pk), quick_log(quick_log_fresh="1"), headers=HTMX)

    new = Encounter.objects.get()
    listed = _oob(html(response), "section", "encounters")
    assert f'id="encounter-{new.pk}"' in listed
    assert "Nothing logged at this outing yet." not in listed
    assert '<span class="count" id="encounter-count">(1)</span>' in listed
    assert "afterbegin" not in html(response)


def test_with_htmx_a_repeated_send_draws_the_list_again_with_the_entry_once(client, worker_a, outing):
    earlier = _earlier_entry(outing, worker_a)
    client.force_login(worker_a)
    sent = quick_log(quick_log_fresh="1")
    client.post(url("encounter_create", outing.pk), sent, headers=HTMX)

    response = client.post(url("encounter_create", outing.pk), sent, headers=HTMX)

    new = Encounter.objects.exclude(pk=earlier.pk).get()
    listed = _oob(html(response), "section", "encounters")
    assert listed.count(f'id="encounter-{new.pk}"') == 1
    assert f'id="encounter-{earlier.pk}"' in listed
    assert "afterbegin" not in html(response)


def test_with_htmx_an_entry_that_is_not_the_newest_draws_the_list_again(client, worker_a, outing):
    """An entry corrected to a later time stays above the new one: the new one is not put on top."""
    later = EncounterFactory(
        team=outing.team,
        site=outing.site,
        outing=outing,
        created_by=worker_a,
        occurred_at=timezone.now() + datetime.timedelta(minutes=30),
    )
    _earlier_entry(outing, worker_a)
    client.force_login(worker_a)

    response = client.post(url("encounter_create", outing.pk), quick_log(quick_log_fresh="1"), headers=HTMX)

    listed = _oob(html(response), "section", "encounters")
    assert listed.index(f'id="encounter-{later.pk}"') < listed.index(
        f'id="encounter-{Encounter.objects.latest("pk").pk}"'
    )
    assert '<span class="count" id="encounter-count">(3)</span>' in listed


def test_a_long_outing_lists_its_latest_entries_and_counts_them_all(client, worker_a, outing, monkeypatch):
    monkeypatch.setattr("encounters.views.ENCOUNTERS_SHOWN", 2)
    for minutes in (1, 2, 3):
        _earlier_entry(outing, worker_a, minutes=minutes)
    client.force_login(worker_a)

    page = html(client.get(url("outing_detail", outing.pk)))
    saved = html(client.post(url("encounter_create", outing.pk), quick_log(quick_log_fresh="1"), headers=HTMX))

    assert '<span class="count" id="encounter-count">(3)</span>' in page
    assert page.count('class="encounter-item"') == 2
    assert "The latest 2 are listed." in page
    # Past the list's length the answer draws the list again, so the page does not grow past it.
    listed = _oob(saved, "section", "encounters")
    assert listed.count('class="encounter-item"') == 2
    assert '<span class="count" id="encounter-count">(4)</span>' in listed


def test_an_expert_sees_the_new_entry_without_a_person_link(client, expert_a, outing):
    _earlier_entry(outing, expert_a)
    client.force_login(expert_a)

    response = client.post(url("encounter_create", outing.pk), quick_log(quick_log_fresh="1"), headers=HTMX)

    assert response.status_code == 200
    new = Encounter.objects.latest("pk")
    content = html(response)
    assert f'id="encounter-{new.pk}"' in content
    assert "Person page" not in content


def test_a_form_sent_twice_logs_one_encounter(client, worker_a, outing):
    client.force_login(worker_a)
    data = quick_log()

    first = client.post(url("encounter_create", outing.pk), data)
    second = client.post(url("encounter_create", outing.pk), data)

    assert (first.status_code, second.status_code) == (302, 302)
    assert Encounter.objects.count() == 1


def test_two_sends_racing_make_one_encounter(client, worker_a, outing, monkeypatch):
    """The second send passes the first check before the first one commits: the unique key decides."""
    client.force_login(worker_a)
    data = quick_log(new_alias="Kettu")
    client.post(url("encounter_create", outing.pk), data)
    calls = []

    def check_that_misses(self, exclude=None):
        calls.append(self.client_uuid)  # the first send had not committed yet

    monkeypatch.setattr(Encounter, "validate_unique", check_that_misses)

    response = client.post(url("encounter_create", outing.pk), data)

    assert response.status_code == 302
    assert len(calls) == 1
    assert Encounter.objects.count() == 1
    # The second send's person was rolled back with its encounter.
    assert Person.objects.count() == 1


def test_an_error_keeps_everything_typed_and_names_the_field(client, worker_a, outing):
    client.force_login(worker_a)
    data = quick_log(
        needs=["housing", "livelihood"],
        actions=["advice"],
        duration_minutes="2000",
        notes="Talked about the winter shelter.",
        new_alias="Kettu",
        new_birth_year="1984",
    )

    response = client.post(url("encounter_create", outing.pk), data)

    assert response.status_code == 200
    content = html(response)
    assert "Duration (minutes): An encounter lasts at most 24 hours." in content
    assert 'href="#id_duration_minutes"' in content
    # Everything typed and chosen is still there.
    assert "Talked about the winter shelter." in content
    assert 'value="2000"' in content
    assert 'value="Kettu"' in content
    assert 'value="housing" id="id_needs_2" checked' in content
    assert 'value="female" id="id_gender_0" checked' in content
    assert f'value="{data["client_uuid"]}"' in content
    # The folded parts that hold input (details, person) are open; the empty one (referral) is not.
    assert len(re.findall(r"<details[^>]*>", content)) == 3
    assert len(re.findall(r"<details[^>]* open>", content)) == 2
    assert not Encounter.objects.exists()
    assert not Person.objects.exists()


def test_an_error_with_htmx_comes_back_in_the_log(client, worker_a, outing):
    client.force_login(worker_a)

    response = client.post(
        url("encounter_create", outing.pk), quick_log(new_birth_year="1980", new_alias=""), headers=HTMX
    )

    assert response.status_code == 200
    content = html(response)
    assert "Alias or nickname: Give the new person an alias or nickname." in content
    assert 'value="1980"' in content
    assert not Encounter.objects.exists()


def test_a_new_pseudonymous_person_is_created_inline_and_linked(client, worker_a, outing):
    client.force_login(worker_a)

    response = client.post(
        url("encounter_create", outing.pk),
        quick_log(age_group="", new_alias="Kettu", new_birth_year="1990", new_gender="male"),
    )

    assert response.status_code == 302
    person = Person.objects.get()
    assert (person.team, person.kind, person.alias, person.birth_year, person.gender) == (
        outing.team,
        Person.Kind.PSEUDONYMOUS,
        "Kettu",
        1990,
        "male",
    )
    assert person.created_by == worker_a
    encounter = Encounter.objects.get()
    assert (encounter.person, encounter.anonymous) == (person, False)
    # No age group chosen: it follows from the birth year.
    age = timezone.localdate().year - 1990
    assert encounter.age_group == ("30_39" if age < 40 else "40_49")


def test_the_person_search_lists_the_teams_persons_by_alias_or_name(client, worker_a, team_a, team_b, outing, caplog):
    kettu = PersonFactory(team=team_a, alias="Kettu", birth_year=1984)
    named = PersonFactory(
        team=team_a, kind=Person.Kind.NAMED, alias="", first_name="Matti", last_name="Ketola", birth_year=1970
    )
    PersonFactory(team=team_b, alias="Ketunpoika")
    PersonFactory(team=team_a, alias="Ketterä", merged_into=kettu)
    PersonFactory(team=team_a, alias="Susi")
    client.force_login(worker_a)

    with caplog.at_level(logging.DEBUG):
        response = client.post(url("person_search", outing.pk), {"person_query": "ket"}, headers=HTMX)

    assert response.status_code == 200
    assert list(response.context["person_results"]) == [named, kettu]
    content = html(response)
    assert f'name="person" value="{kettu.pk}"' in content
    # Found by name, shown by alias (initials without one): the name stays on the person's own page.
    assert "Matti Ketola" not in content
    assert "M. K." in content
    assert "Ketunpoika" not in content
    assert "Susi" not in content
    # The search words are personal data: never in URLs or logs.
    assert "ket" not in " ".join(record.getMessage().lower() for record in caplog.records)
    assert client.get(url("person_search", outing.pk), {"person_query": "ket"}).status_code == 405


def test_the_person_search_asks_for_two_letters(client, worker_a, outing):
    PersonFactory(team=outing.team, alias="Kettu")
    client.force_login(worker_a)

    response = client.post(url("person_search", outing.pk), {"person_query": "k"}, headers=HTMX)

    assert response.context["person_results"] is None
    assert "Type at least 2 letters to search." in html(response)


def test_without_javascript_the_search_redraws_the_form_with_results_and_saves_nothing(client, worker_a, outing):
    kettu = PersonFactory(team=outing.team, alias="Kettu")
    client.force_login(worker_a)

    response = client.post(
        url("encounter_create", outing.pk),
        quick_log(person_query="kett", search_persons="1", notes="Keep me."),
    )

    assert response.status_code == 200
    content = html(response)
    assert f'name="person" value="{kettu.pk}"' in content
    assert "Keep me." in content
    assert not Encounter.objects.exists()


def test_an_encounter_is_linked_to_a_person_found_by_search(client, worker_a, outing):
    kettu = PersonFactory(team=outing.team, alias="Kettu")
    client.force_login(worker_a)

    client.post(url("encounter_create", outing.pk), quick_log(person=str(kettu.pk)))

    encounter = Encounter.objects.get()
    assert (encounter.person, encounter.anonymous) == (kettu, False)


def test_a_person_of_another_team_cannot_be_linked(client, worker_a, team_b, outing):
    stranger = PersonFactory(team=team_b, alias="Karhu")
    client.force_login(worker_a)

    response = client.post(url("encounter_create", outing.pk), quick_log(person=str(stranger.pk)))

    assert response.status_code == 200
    assert "Person: Choose a person from the search results." in html(response)
    assert not Encounter.objects.exists()


def test_a_referral_is_added_in_the_same_form(client, worker_a, outing):
    partner = PartnerOrganisation.objects.create(name="Housing First Kuopio")
    client.force_login(worker_a)

    response = client.post(
        url("encounter_create", outing.pk),
        quick_log(referral_service_kind="housing", referral_partner=str(partner.pk), referral_status="made"),
    )

    assert response.status_code == 302
    encounter = Encounter.objects.get()
    referral = Referral.objects.get()
    assert (referral.encounter, referral.team, referral.service_kind, referral.partner, referral.status) == (
        encounter,
        outing.team,
        "housing",
        partner,
        "made",
    )
    assert referral.made_on == timezone.localdate()
    assert AuditEntry.objects.filter(model="encounters.referral", object_id=str(referral.pk)).exists()


def test_a_refused_referral_saves_nothing_and_names_the_referral_field(client, worker_a, outing):
    closed = PartnerOrganisation.objects.create(name="Closed partner", active=False)
    client.force_login(worker_a)

    response = client.post(
        url("encounter_create", outing.pk),
        quick_log(new_alias="Kettu", referral_service_kind="kela", referral_partner=str(closed.pk)),
    )

    assert response.status_code == 200
    assert "Partner organisation:" in html(response)
    assert not Encounter.objects.exists()
    assert not Person.objects.exists()
    assert not Referral.objects.exists()


def test_a_partner_without_a_service_names_the_service_field(client, worker_a, outing):
    partner = PartnerOrganisation.objects.create(name="Parish")
    client.force_login(worker_a)

    response = client.post(url("encounter_create", outing.pk), quick_log(referral_partner=str(partner.pk)))

    assert "Refer to service: Choose the service you refer the person to." in html(response)
    assert not Encounter.objects.exists()


# Experts by experience -----------------------------------------------------------------------


def test_an_expert_on_the_outing_logs_anonymous_encounters_without_person_or_referral_fields(client, expert_a, outing):
    named = PersonFactory(
        team=outing.team, kind=Person.Kind.NAMED, alias="", first_name="Xaveriina", last_name="Qvistbergintytär"
    )
    EncounterFactory(team=outing.team, site=outing.site, outing=outing, person=named)
    client.force_login(expert_a)

    page = client.get(url("outing_detail", outing.pk))

    content = html(page)
    assert page.status_code == 200
    assert "Link to a person" not in content
    assert "Refer to service" not in content
    assert "Xaveriina" not in content
    assert "Qvistbergintytär" not in content
    assert page.context["encounters"] == []

    response = client.post(
        url("encounter_create", outing.pk), quick_log(person=str(named.pk), referral_service_kind="kela")
    )

    assert response.status_code == 302
    logged = Encounter.objects.get(created_by=expert_a)
    assert (logged.anonymous, logged.person) == (True, None)
    assert not Referral.objects.exists()
    assert client.post(url("person_search", outing.pk), {"person_query": "Ma"}).status_code == 404


def test_an_expert_taps_the_tally_but_does_not_finish(client, expert_a, outing):
    client.force_login(expert_a)

    assert client.post(url("outing_tally", outing.pk), {"delta": "1"}).status_code == 302
    assert client.get(url("outing_finish", outing.pk)).status_code == 403
    assert client.post(url("outing_finish", outing.pk), {"end_time": "23:59"}).status_code == 403

    outing.refresh_from_db()
    assert (outing.tallied_contacts, outing.status) == (1, OutingStatus.PLANNED)


# Undo and delete ------------------------------------------------------------------------------


def test_the_undo_deletes_the_entry_and_its_referral(client, worker_a, outing):
    client.force_login(worker_a)
    client.post(url("encounter_create", outing.pk), quick_log(referral_service_kind="kela"))
    encounter = Encounter.objects.get()

    response = client.post(url("encounter_delete", encounter.pk), {"undo": "1"}, headers=HTMX)

    assert response.status_code == 200
    # What was done and the list again; the form on the page keeps what is being typed there.
    assert response["HX-Reswap"] == "none"
    content = html(response)
    assert "The encounter was deleted." in _oob(content, "div", "log-status")
    assert "Nothing logged at this outing yet." in _oob(content, "section", "encounters")
    assert 'id="quick-log"' not in content
    assert 'name="client_uuid"' not in content
    assert not Encounter.objects.exists()
    assert not Referral.objects.exists()
    assert AuditEntry.objects.filter(model="encounters.encounter", action="delete", actor=worker_a).count() == 1


def test_the_undo_without_javascript_returns_to_the_outing(client, worker_a, outing):
    encounter = EncounterFactory(team=outing.team, site=outing.site, outing=outing, created_by=worker_a)
    client.force_login(worker_a)

    response = client.post(url("encounter_delete", encounter.pk), {"undo": "1"})

    assert response.status_code == 302
    assert response.url == url("outing_detail", outing.pk) + "#log"
    assert not Encounter.objects.exists()


def test_a_colleague_cannot_undo_or_delete_someone_elses_entry(client, worker_a, team_a, outing):
    encounter = EncounterFactory(team=outing.team, site=outing.site, outing=outing, created_by=worker_a)
    colleague = UserFactory(role=Role.WORKER, teams=[team_a])
    client.force_login(colleague)

    response = client.post(url("encounter_delete", encounter.pk), {"undo": "1"})

    assert response.status_code == 403
    assert Encounter.objects.filter(pk=encounter.pk).exists()


def test_a_coordinator_deletes_an_old_entry(client, coordinator, with_totp, worker_a, outing):
    encounter = EncounterFactory(team=outing.team, site=outing.site, outing=outing, created_by=worker_a)
    encounter.created_at = timezone.now() - datetime.timedelta(days=40)
    encounter.save()
    client.force_login(worker_a)
    assert client.post(url("encounter_delete", encounter.pk)).status_code == 403
    client.force_login(with_totp(coordinator))

    response = client.post(url("encounter_delete", encounter.pk))

    assert response.status_code == 302
    assert not Encounter.objects.exists()


# Correcting an entry ---------------------------------------------------------------------------


def test_the_author_corrects_an_entry(client, worker_a, outing):
    encounter = EncounterFactory(
        team=outing.team, site=outing.site, outing=outing, created_by=worker_a, gender="female", needs=["housing"]
    )
    client.force_login(worker_a)
    page = client.get(url("encounter_edit", encounter.pk))
    assert page.status_code == 200
    assert 'value="housing" id="id_needs_2" checked' in html(page)

    response = client.post(
        url("encounter_edit", encounter.pk),
        {
            "occurred_time": "10:45",
            "depth": "brief",
            "gender": "male",
            "age_group": "50_64",
            "needs": ["livelihood"],
            "contact_kind": "field",
            "first_contact": "yes",
            "person": "",
        },
    )

    assert response.status_code == 302
    assert response.url == url("outing_detail", outing.pk) + "#log"
    encounter.refresh_from_db()
    assert (encounter.depth, encounter.gender, encounter.age_group, encounter.needs) == (
        "brief",
        "male",
        "50_64",
        ["livelihood"],
    )
    assert encounter.first_contact is True
    assert timezone.localtime(encounter.occurred_at).time() == datetime.time(10, 45)
    entry = AuditEntry.objects.get(model="encounters.encounter", object_id=str(encounter.pk), action="update")
    assert entry.actor == worker_a


def test_an_entry_older_than_fourteen_days_is_not_corrected_by_its_author(client, worker_a, outing):
    encounter = EncounterFactory(team=outing.team, site=outing.site, outing=outing, created_by=worker_a)
    encounter.created_at = timezone.now() - datetime.timedelta(days=15)
    encounter.save()
    client.force_login(worker_a)

    assert client.get(url("encounter_edit", encounter.pk)).status_code == 403
    assert client.post(url("encounter_edit", encounter.pk), {"depth": "brief"}).status_code == 403
    encounter.refresh_from_db()
    assert encounter.depth == "conversation"


def test_a_referral_is_added_after_saving(client, worker_a, outing):
    encounter = EncounterFactory(team=outing.team, site=outing.site, outing=outing, created_by=worker_a)
    client.force_login(worker_a)

    response = client.post(
        url("referral_add", encounter.pk), {"referral-service_kind": "health_centre", "referral-status": "suggested"}
    )

    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.encounter, referral.service_kind, referral.team) == (encounter, "health_centre", outing.team)


def test_a_referral_without_a_service_names_the_field(client, worker_a, outing):
    encounter = EncounterFactory(team=outing.team, site=outing.site, outing=outing, created_by=worker_a)
    client.force_login(worker_a)

    response = client.post(url("referral_add", encounter.pk), {"referral-status": "suggested"})

    assert response.status_code == 200
    assert "Service: Choose the service you refer the person to." in html(response)
    assert not Referral.objects.exists()


# The tally --------------------------------------------------------------------------------------


def test_the_tally_counts_up_and_down_with_htmx(client, worker_a, outing):
    client.force_login(worker_a)

    for _ in range(3):
        response = client.post(
            url("outing_tally", outing.pk), {"delta": "1", "client_uuid": str(uuid.uuid4())}, headers=HTMX
        )
    response = client.post(
        url("outing_tally", outing.pk), {"delta": "-1", "client_uuid": str(uuid.uuid4())}, headers=HTMX
    )

    assert response.status_code == 200
    assert '<output class="tally__count"' in html(response)
    assert response.context["outing"].tallied_contacts == 2
    outing.refresh_from_db()
    assert outing.tallied_contacts == 2


def test_a_resent_tap_counts_once(client, worker_a, outing):
    client.force_login(worker_a)
    tap = {"delta": "1", "client_uuid": str(uuid.uuid4())}

    client.post(url("outing_tally", outing.pk), tap, headers=HTMX)
    response = client.post(url("outing_tally", outing.pk), tap, headers=HTMX)

    assert response.status_code == 200
    outing.refresh_from_db()
    assert outing.tallied_contacts == 1


def test_the_tally_without_javascript_and_never_below_zero(client, worker_a, outing):
    client.force_login(worker_a)

    response = client.post(url("outing_tally", outing.pk), {"delta": "-1"})

    assert response.status_code == 302
    assert response.url == url("outing_detail", outing.pk) + "#tally"
    outing.refresh_from_db()
    assert outing.tallied_contacts == 0


def test_the_tally_refuses_other_steps(client, worker_a, outing):
    client.force_login(worker_a)

    response = client.post(url("outing_tally", outing.pk), {"delta": "50"}, headers=HTMX)

    assert response.status_code == 400
    outing.refresh_from_db()
    assert outing.tallied_contacts == 0


# Finishing -------------------------------------------------------------------------------------


def test_the_finish_page_sums_up_the_outing(client, worker_a, expert_a, outing):
    outing.start_time = datetime.time(0, 0)
    outing.tallied_contacts = 12
    outing.save()
    person = PersonFactory(team=outing.team)
    make = EncounterFactory
    make(team=outing.team, site=outing.site, outing=outing, depth="conversation", needs=["housing", "substance_use"])
    make(team=outing.team, site=outing.site, outing=outing, depth="conversation", needs=["housing"], person=person)
    make(team=outing.team, site=outing.site, outing=outing, depth="brief")
    client.force_login(worker_a)

    response = client.get(url("outing_finish", outing.pk))

    assert response.status_code == 200
    summary = response.context["summary"]
    assert (summary["encounters"], summary["conversation"], summary["brief"]) == (3, 2, 1)
    assert (summary["anonymous"], summary["linked"], summary["tally"], summary["people_met"]) == (2, 1, 12, 15)
    assert dict(summary["needs"]) == {"Substance use": 1, "Housing": 2}
    assert summary["participants"] == 2
    form = response.context["form"]
    assert form.initial["end_time"] is not None


def test_finishing_marks_the_outing_done_and_counts_hours_by_participants(client, worker_a, outing, today):
    # Yesterday's, left open: an end at 23:30 is in the past whatever the hour now.
    Outing.objects.filter(pk=outing.pk).update(date=today - datetime.timedelta(days=1))
    client.force_login(worker_a)

    response = client.post(
        url("outing_finish", outing.pk),
        {"end_time": "23:30", "observations": "Several people asked about housing.", "notes": ""},
    )

    assert response.status_code == 302
    assert response.url == url("outing_detail", outing.pk)
    outing.refresh_from_db()
    assert (outing.status, outing.end_time) == (OutingStatus.DONE, datetime.time(23, 30))
    assert outing.observations == "Several people asked about housing."
    page = client.get(response.url)
    summary = page.context["summary"]
    assert summary["duration_hours"] == 23.5
    assert summary["person_hours"] == 47.0
    assert 'id="summary"' in html(page)


def test_an_end_before_the_start_names_the_end_time_and_changes_nothing(client, worker_a, team_a, site_a, today):
    # Yesterday's: an end at 09:00 is in the past whatever the hour now.
    outing = OutingFactory(
        team=team_a,
        site=site_a,
        date=today - datetime.timedelta(days=1),
        start_time=datetime.time(10),
        end_time=None,
        status=OutingStatus.PLANNED,
        participants=[worker_a],
    )
    client.force_login(worker_a)

    response = client.post(url("outing_finish", outing.pk), {"end_time": "09:00", "observations": "Keep this."})

    assert response.status_code == 200
    content = html(response)
    assert "End time: An outing must end after it starts." in content
    assert "Keep this." in content
    outing.refresh_from_db()
    assert (outing.status, outing.end_time, outing.observations) == (OutingStatus.PLANNED, None, "")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fi", "Kesto (minuuttia): Kohtaaminen voi kestää enintään 24 tuntia."),
        ("sv", "Längd (minuter): Ett möte kan pågå högst 24 timmar."),
    ],
)
def test_errors_name_the_field_in_the_users_language(client, worker_a, outing, language, expected):
    """Needs the compiled catalogues (`make messages`)."""
    client.force_login(worker_a)
    client.cookies["django_language"] = language

    try:
        response = client.post(url("encounter_create", outing.pk), quick_log(duration_minutes="2000"))
    finally:
        # The locale middleware leaves the language active in this thread; later tests expect the default.
        translation.deactivate()

    assert response.status_code == 200
    content = html(response)
    assert f'<html lang="{language}">' in content
    assert expected in content
    assert not Encounter.objects.exists()
