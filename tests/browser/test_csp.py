"""The pages work under the app's Content-Security-Policy: nothing is refused."""

import pytest

from tests.browser.test_field_flow import demo_data, sign_in  # noqa: F401 - fixture and helper

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_field_pages_and_api_docs_break_no_rule_of_the_policy(live_server, phone, demo_data):  # noqa: F811
    page = phone(desktop=True, bypass_csp=False)
    refused = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )

    response = page.goto(f"{live_server.url}/accounts/login/")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy

    sign_in(page, live_server, "worker@example.org")
    page.click("text=Start outing")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("networkidle")
    # The outing page: chips, folds and htmx saving all run from static files.
    page.locator("label.chip").first.click()
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock", timeout=15_000)

    assert refused == []
