"""A coordinator defines the start-of-project client survey on a phone and publishes it; a client answers it.

In Chromium at 360 × 640 (and the form at desktop width), in Finnish,
Swedish and English. Screenshots: test-artifacts/surveys/.
"""

import re

import pytest

from reports.models import Survey, SurveyResponse

from .conftest import save_screenshot
from .test_feedback_flow import new_page, session_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shoot(page, name: str) -> None:
    save_screenshot(page, "surveys", name)


def fill_question(page, index: int, kind: str, texts: tuple[str, str, str], choices=None) -> None:
    page.select_option(f"#id_q-{index}-kind", kind)
    for code, text in zip(("fi", "sv", "en"), texts, strict=True):
        page.fill(f"#id_q-{index}-text_{code}", text)
    for code, lines in (choices or {}).items():
        page.fill(f"#id_q-{index}-choices_{code}", "\n".join(lines))


def test_a_coordinator_defines_and_publishes_a_survey_a_client_answers_in_swedish(
    browser, live_server, coordinator, with_totp
):
    with_totp(coordinator)
    session = session_of(coordinator)
    for locale, desktop in (("sv-FI", False), ("en-GB", True)):
        context, page = new_page(browser, locale=locale, desktop=desktop, session=session, base_url=live_server.url)
        page.goto(f"{live_server.url}/reports/surveys/new/")
        shoot(page, f"new-{locale}-{'desktop' if desktop else 'phone'}")
        context.close()

    context, page = new_page(browser, locale="fi-FI", session=session, base_url=live_server.url)
    page.goto(f"{live_server.url}/reports/surveys/")
    page.click("a[href='/reports/surveys/new/']")
    page.fill("#id_title", "Alkukysely 2027")
    fill_question(page, 0, "scale", ("Kuinka tyytyväinen olet?", "Hur nöjd är du?", "How satisfied are you?"))
    assert not page.is_visible("#id_q-0-choices_fi")  # a scale question has no choices
    fill_question(
        page,
        1,
        "single",
        ("Mistä kuulit meistä?", "Var hörde du om oss?", "Where did you hear of us?"),
        {"fi": ["Ystävältä", "Ruokajakelussa"], "sv": ["Av en vän"], "en": ["From a friend", "At the food bank"]},
    )
    page.click("button[name=add_question]")
    page.wait_for_selector("#new-question")
    assert page.input_value("#id_q-0-text_sv") == "Hur nöjd är du?"
    fill_question(page, 3, "text", ("Mitä muuta haluat sanoa?", "Vad vill du säga mer?", "Anything else?"))
    page.click("button.button--big")
    page.wait_for_selector(".error-summary")
    shoot(page, "new-fi-phone-error")
    assert "ruotsiksi 1" in page.inner_text(".error-summary")  # Swedish has one choice of two
    assert not Survey.objects.exists()
    page.fill("#id_q-1-choices_sv", "Av en vän\nPå matutdelningen")
    page.click("button.button--big")
    page.wait_for_url(re.compile(r".*/reports/surveys/\d+/$"))
    shoot(page, "published-fi-phone")
    assert page.is_visible(".qr svg")
    link = page.inner_text(".short-link")
    context.close()

    survey = Survey.objects.get()
    assert [q.kind for q in survey.questions.all()] == ["scale", "single", "text"]

    context, page = new_page(browser, locale="sv-FI")
    page.goto(link)
    assert "Var hörde du om oss?" in page.inner_text("main")
    shoot(page, "answer-sv-phone")
    first, second, third = survey.questions.all()
    page.click(f"label:has(input[name=q{first.pk}][value='4'])")
    page.click(f"label:has(input[name=q{second.pk}])  >> nth=1")
    page.fill(f"textarea[name=q{third.pk}]", "Tack")
    page.click("button[type=submit]")
    page.wait_for_selector(".thanks")
    context.close()
    assert SurveyResponse.objects.filter(survey=survey).count() == 1
