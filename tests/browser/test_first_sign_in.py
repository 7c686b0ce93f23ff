"""A new coordinator's first sign-in, in Chromium: straight to two-factor setup, right at the first try.

The browser asks for /favicon.ico (and a phone for its touch icons) by itself
while the setup page is open; none of that may change the secret on the
screen. The code is computed from the secret the page shows, as an
authenticator app would, and must be accepted the first time.
"""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from outreach.tests.factories import TeamFactory, UserFactory
from outreach.vocabulary import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
TEXTS = {
    "fi": {"locale": "fi-FI", "why": "kaksivaiheinen tunnistus"},
    "sv": {"locale": "sv-SE", "why": "tvåstegsverifiering"},
    "en": {"locale": "en-GB", "why": "two-factor authentication"},
}


def code_for(secret: str) -> str:
    # The middle of a 30-second period, so the code does not turn over between typing and sending.
    now = time.time()
    if now % 30 > 25:
        time.sleep(30 - now % 30 + 1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.mark.parametrize(("language", "desktop"), [("fi", False), ("sv", False), ("en", True), ("fi", True)])
def test_fresh_coordinator_sets_up_two_factor_at_the_first_try(live_server, phone, screenshot, language, desktop):
    text = TEXTS[language]
    coordinator = UserFactory(
        email=f"new.coordinator.{language}{int(desktop)}@example.org", role=Role.COORDINATOR, teams=[TeamFactory()]
    )
    page = phone(locale=text["locale"], desktop=desktop)
    icon_statuses: dict[str, int] = {}
    page.on(
        "response",
        lambda response: (
            icon_statuses.__setitem__(response.url.split("/", 3)[-1], response.status)
            if "icon" in response.url
            else None
        ),
    )
    shot = lambda name: screenshot(page, f"mfa-{language}-{'desktop' if desktop else 'phone'}-{name}")  # noqa: E731

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", coordinator.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")

    # Straight to the setup, without a second password prompt, and it says why.
    page.wait_for_url(re.compile(r".*/accounts/2fa/totp/activate/$"))
    page.wait_for_load_state("networkidle")
    assert text["why"] in page.locator("[data-testid=mfa-why]").inner_text().lower()
    shot("01-setup")
    # What the browser and a phone fetch by themselves.
    for path in ("/favicon.ico", "/apple-touch-icon.png"):
        assert page.request.get(f"{live_server.url}{path}").status == 200, path
    page.reload()
    page.wait_for_load_state("networkidle")

    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", code_for(secret))
    page.click("main button[type=submit]")

    page.wait_for_url(re.compile(r".*/accounts/2fa/recovery-codes/$"))
    shot("02-recovery-codes")
    assert Authenticator.objects.filter(user=coordinator, type=Authenticator.Type.TOTP).exists()
    assert all(status < 400 for status in icon_statuses.values()), icon_statuses
