"""Field logging with no connection, on a phone (360 × 640), in Chromium.

The worker opens an outing online; with the network gone they log three
encounters and tap the tally five times, reload the page (the service
worker's copy opens) and find the eight entries waiting; with the network
back every entry reaches the server exactly once. Then: the app server fails
in the middle of the sending, and signing out empties what the device kept.
Screenshots: test-artifacts/field/offline-*.png.
"""

import datetime
import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from playwright.sync_api import Dialog, Page, Route
from pytest_django.live_server_helper import LiveServer

from encounters.models import Encounter, FollowUp
from encounters.tests.factories import PersonFactory
from outreach.models import Outing, TallyEvent
from outreach.tests.factories import FieldSiteFactory, OutingFactory, TeamFactory, UserFactory
from outreach.vocabulary import OutingStatus, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
TEXTS = {
    "en": {"locale": "en-GB", "waiting": "Waiting to send", "sent": "has been sent", "taps": "taps waiting"},
    "fi": {"locale": "fi-FI", "waiting": "Odottaa lähetystä", "sent": "on lähetetty", "taps": "napautusta odottaa"},
    "sv": {"locale": "sv-SE", "waiting": "Väntar på att skickas", "sent": "har skickats", "taps": "tryck väntar"},
}


@pytest.fixture
def field(db: None) -> dict:
    importlib.import_module("outreach.migrations.0002_municipalities").load(django_apps, None)
    team = TeamFactory(name="Kuopio")
    worker = UserFactory(email="offline.worker@example.org", full_name="Olli Offline", role=Role.WORKER, teams=[team])
    colleague = UserFactory(email="other.worker@example.org", role=Role.WORKER, teams=[team])
    outing = OutingFactory(
        team=team,
        site=FieldSiteFactory(name="Ruoka-apu", team=team),
        date=timezone.localdate(),
        start_time=datetime.time(0, 0),
        end_time=None,
        status=OutingStatus.PLANNED,
        started_at=timezone.now(),
        participants=[worker],
        tallied_contacts=4,
    )
    return {"worker": worker, "colleague": colleague, "outing": outing}


def sign_in(page: Page, live_server: LiveServer, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/field/$"))
    # Today has looked at the outbox and kept its copy for the device.
    page.wait_for_selector("html[data-outbox=ready]")


def open_outing_for_offline(page: Page, live_server: LiveServer, outing: Outing) -> None:
    """Open the outing page online and wait until the service worker is active and the page's copy is kept.

    (The next page opened is the service worker's to answer, also when it did not yet control this one.)"""
    page.goto(f"{live_server.url}/field/outings/{outing.pk}/")
    page.wait_for_selector("html[data-outbox=ready]")
    for _ in range(100):
        controlled, kept = page.evaluate(
            "async () => [!!(await navigator.serviceWorker.getRegistration())?.active,"
            " !!(await caches.match(location.pathname))]"
        )
        if controlled and kept:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"not ready for offline: active {controlled}, kept {kept}")


def log_anonymous(page: Page, gender: int, age_group: int) -> None:
    page.locator(f"label[for=id_gender_{gender}]").tap()
    page.locator(f"label[for=id_age_group_{age_group}]").tap()
    page.locator("#quick-log-save").tap()
    page.locator("#outbox-queued").wait_for()


def one_entry_offline(page: Page, live_server: LiveServer, field: dict) -> Page:
    """The worker opens their outing online, loses the connection and logs one encounter."""
    sign_in(page, live_server, field["worker"].email)
    open_outing_for_offline(page, live_server, field["outing"])
    page.context.set_offline(True)
    log_anonymous(page, 0, 2)
    return page


def waiting_lines(page: Page) -> int:
    return page.locator("#outbox .outbox__item").count()


def cached_names(page: Page) -> list[str]:
    return page.evaluate("caches.keys()")


def outbox_size(page: Page) -> int:
    return page.evaluate(
        """() => new Promise(resolve => {
            const open = indexedDB.open("outreach-outbox", 1);
            open.onupgradeneeded = () => { open.result.createObjectStore("entries", {keyPath: "uuid"});
                                           open.result.createObjectStore("meta"); };
            open.onsuccess = () => {
                const request = open.result.transaction("entries").objectStore("entries").count();
                request.onsuccess = () => { open.result.close(); resolve(request.result); };
            };
        })"""
    )


@pytest.mark.parametrize("language", ["en", "fi", "sv"])
def test_a_morning_offline_reaches_the_server_once(live_server, phone, screenshot, field, language):
    text = TEXTS[language]
    outing = field["outing"]
    page = phone(locale=text["locale"])
    shot = lambda name: screenshot(page, f"offline-{language}-{name}")  # noqa: E731
    sign_in(page, live_server, field["worker"].email)
    open_outing_for_offline(page, live_server, outing)

    page.context.set_offline(True)
    log_anonymous(page, 0, 2)
    log_anonymous(page, 1, 3)
    log_anonymous(page, 0, 4)
    for _ in range(5):
        page.locator(".tally__button--plus").tap()
    page.locator("#outbox .outbox__title", has_text=f"{text['waiting']} (8)").wait_for()
    assert waiting_lines(page) == 4
    assert page.locator("#tally-count").inner_text() == "9"
    shot("01-logged")
    assert Encounter.objects.filter(outing=outing).count() == 0

    # Reloaded with no connection: the copy kept by the service worker, with the entries still waiting.
    page.reload()
    page.wait_for_selector("html[data-outbox=ready]")
    assert page.locator("meta[name=outreach-offline-copy]").count() == 1
    page.wait_for_function("document.querySelectorAll('#outbox .outbox__item').length === 4")
    assert page.locator("#outbox .outbox__item", has_text=text["taps"]).count() == 1
    assert page.locator("#tally-count").inner_text() == "9"
    shot("02-reloaded-offline")
    # Today opens too, from its copy: the outings, no follow-ups.
    page.locator(".outing-head__back a").tap()
    page.wait_for_selector("html[data-outbox=ready]")
    assert page.locator("meta[name=outreach-offline-copy]").count() == 1
    assert page.locator("#offline-follow-ups").count() == 1
    assert page.locator("#in-progress .outing-card").count() == 1
    shot("02b-today-offline")
    page.locator("#in-progress .outing-card a").first.tap()
    page.wait_for_selector("html[data-outbox=ready]")
    assert page.locator(".tally__form").count() == 1

    page.context.set_offline(False)
    page.wait_for_selector(f"#outbox >> text={text['sent']}")
    shot("03-sent")
    assert waiting_lines(page) == 0
    assert Encounter.objects.filter(outing=outing).count() == 3
    assert sorted(Encounter.objects.filter(outing=outing).values_list("gender", flat=True)) == [
        "female",
        "female",
        "male",
    ]
    outing.refresh_from_db()
    assert outing.tallied_contacts == 4 + 5
    assert TallyEvent.objects.filter(outing=outing).count() == 5


def answer_then_fail(page: Page, pattern: str, times: int) -> list[str]:
    """The first `times` requests to `pattern` reach the app, which saves them, and then the answer is lost:
    the connection (or the server) died in the middle of the sending."""
    lost: list[str] = []

    def handle(route: Route) -> None:
        if len(lost) < times and route.request.method == "POST":
            route.fetch()
            lost.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(pattern, handle)
    return lost


def test_answers_lost_in_the_middle_of_sending_lose_nothing_and_count_once(live_server, phone, screenshot, field):
    outing = field["outing"]
    page = phone(locale="en-GB")
    sign_in(page, live_server, field["worker"].email)
    open_outing_for_offline(page, live_server, outing)

    # Online, the quick log's answer is lost after the server saved it: kept on the device, sent again later.
    lost_online = answer_then_fail(page, "**/encounters/", 1)
    log_anonymous(page, 0, 2)
    assert len(lost_online) == 1
    assert Encounter.objects.filter(outing=outing).count() == 1
    page.unroute("**/encounters/")

    page.context.set_offline(True)
    log_anonymous(page, 1, 3)
    log_anonymous(page, 0, 4)
    for _ in range(5):
        page.locator(".tally__button--plus").tap()
    page.locator("#outbox .outbox__title", has_text="Waiting to send (8)").wait_for()

    # Back online: the encounters go through (the first is a repeat), the answer to the first tap is lost.
    lost_taps = answer_then_fail(page, "**/tally/", 1)
    page.context.set_offline(False)
    page.locator("#outbox >> text=could not save the entries just now").wait_for()
    screenshot(page, "offline-en-04-server-failed")
    assert len(lost_taps) == 1
    assert Encounter.objects.filter(outing=outing).count() == 3
    outing.refresh_from_db()
    assert outing.tallied_contacts == 4 + 1
    # The tap the server counted is still waiting on the device, with the four others.
    assert outbox_size(page) == 5

    # The next page load sends the rest, and the repeats are answered with the records made the first time.
    page.unroute("**/tally/")
    page.reload()
    page.wait_for_selector("#outbox >> text=has been sent")
    assert outbox_size(page) == 0
    assert Encounter.objects.filter(outing=outing).count() == 3
    outing.refresh_from_db()
    assert outing.tallied_contacts == 4 + 5
    assert TallyEvent.objects.filter(outing=outing).count() == 5


def test_a_session_ended_offline_keeps_the_entries_and_another_user_never_sends_them(live_server, phone, field):
    outing = field["outing"]
    page = one_entry_offline(phone(locale="en-GB"), live_server, field)

    # The session ended while offline: the send stops, says so, and keeps the entry.
    page.context.clear_cookies()
    page.context.set_offline(False)
    page.locator("#outbox >> text=Your session has ended").wait_for()
    assert page.locator("#outbox a", has_text="Sign in").count() == 1
    assert outbox_size(page) == 1
    assert Encounter.objects.filter(outing=outing).count() == 0

    # Another user signs in on the device: the first one's entry is deleted, never sent as theirs.
    sign_in(page, live_server, field["colleague"].email)
    page.wait_for_selector("html[data-outbox=ready]")
    assert outbox_size(page) == 0
    kept = page.evaluate("pk => caches.open('outreach-pages').then(c => c.match(`/field/outings/${pk}/`))", outing.pk)
    assert kept is None
    assert Encounter.objects.filter(outing=outing).count() == 0


def test_signing_out_deletes_the_outbox_and_the_kept_pages(live_server, phone, field):
    outing = field["outing"]
    page = one_entry_offline(phone(locale="en-GB"), live_server, field)
    assert outbox_size(page) == 1
    assert "outreach-pages" in cached_names(page)

    # The server cannot be reached; the worker signs out anyway, and is warned first.
    page.route("**/encounters/", lambda route: route.abort("connectionrefused"))
    page.context.set_offline(False)
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.locator(".site-nav form button[type=submit]").tap()
    page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    assert len(dialogs) == 1
    assert "1 entries have not been sent yet" in dialogs[0]
    assert [name for name in cached_names(page) if name.startswith("outreach-")] == []
    assert outbox_size(page) == 0
    assert Encounter.objects.filter(outing=outing).count() == 0


@pytest.mark.parametrize("language", ["en", "fi", "sv"])
def test_an_entry_the_server_refuses_is_shown_with_what_to_do(live_server, phone, screenshot, field, language):
    outing = field["outing"]
    page = phone(locale=TEXTS[language]["locale"])
    sign_in(page, live_server, field["worker"].email)
    open_outing_for_offline(page, live_server, outing)
    page.context.set_offline(True)
    log_anonymous(page, 0, 2)
    page.locator(".tally__button--plus").tap()

    # Meanwhile the outing was cancelled: nothing more can be logged at it.
    Outing.objects.filter(pk=outing.pk).update(status=OutingStatus.CANCELLED)
    page.context.set_offline(False)
    page.locator("#outbox .outbox__title--refused").wait_for()
    page.wait_for_function("document.querySelectorAll('#outbox .outbox__item--refused').length === 2")
    assert page.locator("#outbox .outbox__title--refused").inner_text().endswith("(2)")
    reasons = page.locator("#outbox .outbox__reason").all_inner_texts()
    assert len(reasons) == 2
    assert all(reason and reason == reasons[0] for reason in reasons)
    screenshot(page, f"offline-{language}-05-refused")
    assert Encounter.objects.filter(outing=outing).count() == 0

    # Still there after a reload; removed only when the worker says so.
    page.reload()
    page.locator("#outbox .outbox__item--refused").first.wait_for()
    assert page.locator("#outbox .outbox__item--refused").count() == 2
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#outbox .outbox__item--refused").first.locator("button").last.tap()
    page.wait_for_function("document.querySelectorAll('#outbox .outbox__item--refused').length === 1")
    assert outbox_size(page) == 1


def test_a_follow_up_marked_done_offline_is_sent_once(live_server, phone, screenshot, field):
    worker = field["worker"]
    person = PersonFactory(team=field["outing"].team, alias="Kaveri")
    follow_up = FollowUp.objects.create(
        team=person.team, person=person, assigned_to=worker, due_on=timezone.localdate()
    )
    page = phone(desktop=True)
    sign_in(page, live_server, worker.email)
    page.wait_for_selector("html[data-outbox=ready]")

    page.context.set_offline(True)
    page.fill(f"#id_follow_up_note_{follow_up.pk}", "Soitettu.")
    page.locator(".follow-up__done button[type=submit]").click()
    page.locator(".follow-up__done >> text=Kept on this device").wait_for()
    # The outbox lists it once it has read the device's store back (asynchronously, after the form's answer).
    page.locator("#outbox .outbox__title", has_text="Waiting to send (1)").wait_for()
    screenshot(page, "offline-en-06-follow-up-desktop")
    follow_up.refresh_from_db()
    assert follow_up.done_on is None

    page.context.set_offline(False)
    page.wait_for_selector("#outbox >> text=has been sent")
    follow_up.refresh_from_db()
    assert (follow_up.done_on, follow_up.notes) == (timezone.localdate(), "Soitettu.")
