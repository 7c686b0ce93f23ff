"""The quick log after a save, with JavaScript (htmx): the server answers with what it saved, the
form's new key and the list's new entry, and the browser clears the form for the next encounter.

What the page shows after a run of saves must be what a fresh load of the page shows: the same entries
in the same order, the same count, and a form as the server draws it (defaults chosen, folds closed, no
search results). After an error the form holds what was sent; its save draws it again on the server.
Screenshots: test-artifacts/field/ (fi, sv, en; 360 px and desktop).
"""

import re

import pytest

from encounters.models import Encounter
from outreach.models import Outing, User
from outreach.vocabulary import OutingStatus
from tests.browser.test_field_flow import SITE, demo_data, sign_in  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCALES = {"fi": "fi-FI", "sv": "sv-SE", "en": "en-GB"}

# The form's state as the page shows it: what a user sees and what the next save would send.
FORM_STATE = """() => {
  const form = document.getElementById('quick-log');
  return {
    checked: [...form.querySelectorAll('input:checked')].map(i => i.id).sort(),
    values: [...form.querySelectorAll('input[type=text], input[type=number], input[type=search], textarea, select')]
      .map(i => [i.name, i.value]),
    open: [...form.querySelectorAll('details')].filter(d => d.open).map(d => d.id || 'fold'),
    results: document.getElementById('person-results').textContent.trim(),
    errors: form.querySelectorAll('.errorlist').length,
    fresh: form.querySelectorAll('input[name=quick_log_fresh]').length,
  };
}"""

LIST_STATE = """() => ({
  ids: [...document.querySelectorAll('#encounter-list > li')].map(li => li.id),
  texts: [...document.querySelectorAll('#encounter-list > li')].map(li => li.innerText),
  count: document.getElementById('encounter-count').textContent.trim(),
})"""


def start_outing(page, live_server, worker) -> Outing:
    sign_in(page, live_server, worker.email)
    page.goto(f"{live_server.url}/field/outings/start/")
    page.locator("label.chip", has_text=SITE).click()
    page.locator(".save-bar button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/field/outings/\d+/$"))
    return Outing.objects.get(created_by=worker, status=OutingStatus.PLANNED, end_time=None)


def client_uuid(page) -> str:
    return page.locator("#quick-log input[name=client_uuid]").input_value()


def save_and_wait(page, entries: int) -> None:
    page.locator("#quick-log-save").tap()
    page.wait_for_function(f"document.querySelectorAll('#encounter-list > li').length === {entries}")
    page.locator("#undo").wait_for()


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_after_each_save_the_page_is_what_a_fresh_load_shows(live_server, phone, screenshot, demo_data, language):  # noqa: F811
    worker = User.objects.get(email="worker@example.org")
    page = phone(locale=LOCALES[language])
    outing = start_outing(page, live_server, worker)
    pristine = page.evaluate(FORM_STATE)
    assert pristine["fresh"] == 1

    # An anonymous conversation: the first entry draws the list.
    first_key = client_uuid(page)
    page.locator("label[for=id_gender_0]").tap()
    page.locator("label[for=id_age_group_2]").tap()
    save_and_wait(page, 1)
    assert page.evaluate("document.activeElement.id") == "undo"
    assert page.evaluate(FORM_STATE) == pristine
    second_key = client_uuid(page)
    assert second_key != first_key

    # A second with everything folded open and filled in: details, a new person, a referral.
    page.locator("label[for=id_needs_2]").tap()
    page.locator("details.fold:has(#id_notes) > summary").tap()
    page.fill("#id_notes", "Asked about the winter shelter.")
    page.fill("#id_duration_minutes", "15")
    page.locator("#person-fold > summary").tap()
    page.fill("#id_new_alias", "Sinisiipi")
    page.fill("#id_new_birth_year", "1987")
    page.locator("details.fold:has(#id_referral_service_kind) > summary").tap()
    page.select_option("#id_referral_service_kind", "housing")
    screenshot(page, f"{language}-20-quick-log-filled")
    save_and_wait(page, 2)
    screenshot(page, f"{language}-21-quick-log-cleared")
    assert page.evaluate(FORM_STATE) == pristine
    assert client_uuid(page) not in (first_key, second_key)

    # A third linked to that person, found by search: the results go with the save.
    page.locator("#person-fold > summary").tap()
    page.fill("#id_person_query", "sinis")
    page.locator("#person-results label").first.tap()
    save_and_wait(page, 3)
    assert page.evaluate(FORM_STATE) == pristine

    saved = Encounter.objects.filter(outing=outing).order_by("pk")
    assert [e.notes for e in saved] == ["", "Asked about the winter shelter.", ""]
    assert saved[2].person_id == saved[1].person_id is not None
    assert len({e.client_uuid for e in saved}) == 3

    # The list built from the answers is the list the server draws.
    shown = page.evaluate(LIST_STATE)
    assert shown["ids"] == [f"encounter-{e.pk}" for e in reversed(saved)]
    page.reload()
    assert page.evaluate(LIST_STATE) == shown
    assert page.evaluate(FORM_STATE) == pristine


def test_a_form_drawn_after_an_error_is_drawn_again_after_its_save(live_server, phone, screenshot, demo_data):  # noqa: F811
    worker = User.objects.get(email="worker@example.org")
    page = phone()
    outing = start_outing(page, live_server, worker)
    pristine = page.evaluate(FORM_STATE)
    page.locator("label[for=id_gender_0]").tap()
    save_and_wait(page, 1)

    # A birth year without an alias is refused; everything typed stays.
    page.locator("#person-fold > summary").tap()
    page.fill("#id_new_birth_year", "1980")
    page.locator("#quick-log-save").tap()
    page.locator("#quick-log .errorlist").first.wait_for()
    refused = page.evaluate(FORM_STATE)
    assert refused["fresh"] == 0
    assert ["new_birth_year", "1980"] in refused["values"]
    screenshot(page, "en-22-quick-log-refused")

    page.fill("#id_new_alias", "Kettu")
    save_and_wait(page, 2)
    # Drawn again by the server: as new, marked so, and cleared in the browser from then on.
    assert page.evaluate(FORM_STATE) == pristine
    page.locator("label[for=id_gender_1]").tap()
    save_and_wait(page, 3)
    assert page.evaluate(FORM_STATE) == pristine
    assert Encounter.objects.filter(outing=outing).count() == 3
    shown = page.evaluate(LIST_STATE)
    page.reload()
    assert page.evaluate(LIST_STATE) == shown

    # The undo takes the newest away from the list, and the form keeps what is being typed.
    page.locator("details.fold:has(#id_notes) > summary").tap()
    page.fill("#id_notes", "still typing")
    page.locator("label[for=id_gender_2]").tap()
    save_and_wait(page, 4)
    page.locator("details.fold:has(#id_notes) > summary").tap()
    page.fill("#id_notes", "the next one")
    page.locator("#undo button").tap()
    page.wait_for_function("document.querySelectorAll('#encounter-list > li').length === 3")
    assert page.locator("#id_notes").input_value() == "the next one"
    assert page.evaluate(LIST_STATE)["count"] == "(3)"
    assert Encounter.objects.filter(outing=outing).count() == 3


def test_the_cleared_quick_log_on_a_desktop(live_server, phone, screenshot, demo_data):  # noqa: F811
    worker = User.objects.get(email="worker@example.org")
    page = phone(locale=LOCALES["fi"], desktop=True)
    start_outing(page, live_server, worker)
    page.locator("label[for=id_gender_0]").click()
    page.locator("#quick-log-save").click()
    page.locator("#undo").wait_for()
    page.locator("label[for=id_gender_1]").click()
    page.locator("#quick-log-save").click()
    page.wait_for_function("document.querySelectorAll('#encounter-list > li').length === 2")
    screenshot(page, "fi-23-quick-log-cleared-desktop")
    assert page.locator("#encounter-count").inner_text() == "(2)"
