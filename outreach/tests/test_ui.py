"""The page shell: base template, navigation by role, language switcher,
home page per role, allauth's pages in our look, error pages, static assets."""

import datetime
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib.staticfiles import finders
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.views.defaults import server_error

from outreach.tests.factories import FieldSiteFactory, OutingFactory

HOME = reverse("home")
LOGIN = reverse("account_login")
SET_LANGUAGE = reverse("set_language")


def html(response) -> str:
    return response.content.decode()


def assert_shell(content: str) -> None:
    """The page is drawn in our base template, with its landmarks."""
    assert 'class="skip-link" href="#main"' in content
    assert '<header class="site-header">' in content
    assert '<main id="main"' in content
    assert "/static/css/app.css" in content


@pytest.fixture
def today():
    return timezone.localdate()


# -- Home page per role ------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_home_redirects_to_login(client):
    response = client.get(HOME)

    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


@pytest.mark.parametrize("role_fixture", ["worker_a", "expert_a"])
def test_worker_and_expert_home_is_their_day_in_the_field(client, request, role_fixture):
    """Workers and experts by experience start from the Today page of the field
    pages (encounters/tests/test_field_views.py tests what it shows)."""
    client.force_login(request.getfixturevalue(role_fixture))

    response = client.get(HOME)

    assert response.status_code == 302
    assert response.url == reverse("encounters:today")
    content = html(client.get(response.url))
    assert_shell(content)
    assert 'id="coordinator-teams"' not in content
    assert 'id="admin-overview"' not in content
    assert 'href="/admin/"' not in content


def test_coordinator_home_counts_this_months_outings_per_team(
    client, coordinator, with_totp, team_a, team_b, team_other_area, today
):
    with_totp(coordinator)
    site = FieldSiteFactory()
    month_start = today.replace(day=1)
    OutingFactory(team=team_a, site=site, date=month_start)
    OutingFactory(team=team_a, site=site, date=month_start)
    OutingFactory(team=team_b, site=site, date=month_start)
    # Last month's outing and another area's team do not count here.
    OutingFactory(team=team_a, site=site, date=month_start - datetime.timedelta(days=1))
    OutingFactory(team=team_other_area, site=site, date=month_start)
    client.force_login(coordinator)

    response = client.get(HOME)

    assert response.status_code == 200
    content = html(response)
    counts = {team.name: team.outings_this_month for team in response.context["teams"]}
    assert counts == {"Team A": 2, "Team B": 1}
    assert 'id="coordinator-teams"' in content
    assert "Team elsewhere" not in content
    assert 'id="coordinator-admin-link"' in content
    assert 'href="/admin/"' in content
    assert 'id="outings-upcoming"' not in content
    assert 'id="admin-overview"' not in content


def test_admin_home_shows_counts_and_admin_links(client, admin_user, with_totp, worker_a, team_a):
    with_totp(admin_user)
    FieldSiteFactory()
    client.force_login(admin_user)

    response = client.get(HOME)

    assert response.status_code == 200
    content = html(response)
    assert 'id="admin-overview"' in content
    assert response.context["counts"] == {"users": 2, "teams": 1, "sites": 1}
    assert 'href="/admin/"' in content
    assert 'id="outings-upcoming"' not in content
    assert 'id="coordinator-teams"' not in content


@pytest.mark.parametrize(
    ("role_fixture", "max_queries"),
    [("coordinator", 7), ("admin_user", 6), ("superuser", 6)],
)
def test_home_runs_a_bounded_number_of_queries(
    client, request, with_totp, team_a, today, django_assert_max_num_queries, role_fixture, max_queries
):
    user = request.getfixturevalue(role_fixture)
    if user.requires_mfa:
        with_totp(user)
    site = FieldSiteFactory()
    for days in range(10):
        OutingFactory(team=team_a, site=site, date=today + datetime.timedelta(days=days), participants=[user])
    client.force_login(user)

    # Session, user, the TOTP check (coordinators and admins), then one
    # query per section (three counts for admins; the coordinator's access
    # changes with their added and removed teams), however many outings.
    with django_assert_max_num_queries(max_queries):
        response = client.get(HOME)

    assert response.status_code == 200


def test_coordinator_without_totp_is_sent_to_set_it_up(client, coordinator):
    client.force_login(coordinator)

    response = client.get(HOME)

    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


# -- Navigation by role ------------------------------------------------------


def nav(content: str) -> str:
    match = re.search(r'<nav class="site-nav".*?</nav>', content, re.S)
    assert match, "no main navigation"
    return match.group(0)


def test_worker_navigation_has_today_account_and_sign_out_but_no_admin(client, worker_a):
    client.force_login(worker_a)

    menu = nav(html(client.get(HOME, follow=True)))

    assert f'<a href="{reverse("encounters:today")}" aria-current="page">Today</a>' in menu
    assert f'href="{reverse("account_change_password")}"' in menu
    assert f'<form action="{reverse("account_logout")}" method="post">' in menu
    assert "/admin/" not in menu


def test_coordinator_and_admin_navigation_link_to_the_admin(client, coordinator, admin_user, with_totp):
    for user in (coordinator, admin_user):
        client.force_login(with_totp(user))

        menu = nav(html(client.get(HOME)))

        assert '<a href="/admin/">Admin</a>' in menu
        assert '<a href="/" aria-current="page">Home</a>' in menu


@pytest.mark.django_db
def test_anonymous_pages_have_no_navigation(client):
    content = html(client.get(LOGIN))

    assert '<nav class="site-nav"' not in content


def test_nav_link_renders_nothing_for_a_url_that_does_not_exist(rf):
    template = Template('{% load outreach_tags %}{% nav_link "no_such_page" "Nowhere" %}|{% nav_link "home" "Home" %}')

    rendered = template.render(Context({"request": rf.get("/elsewhere/")}))

    assert rendered == '|<li><a href="/">Home</a></li>'


def test_nav_link_marks_the_current_page(rf):
    template = Template('{% load outreach_tags %}{% nav_link "account_change_password" "Account" %}')
    url = reverse("account_change_password")

    rendered = template.render(Context({"request": rf.get(url)}))

    assert rendered == f'<li><a href="{url}" aria-current="page">Account</a></li>'


# -- Language ----------------------------------------------------------------


def switch_language(client, code: str):
    return client.post(SET_LANGUAGE, {"language": code, "next": HOME})


def current_language_button(content: str) -> str:
    match = re.search(r'<button type="submit" name="language" value="(\w+)"[^>]*aria-current="true"', content)
    assert match, "the language switcher marks no language as current"
    return match.group(1)


@pytest.mark.parametrize("code", ["sv", "en", "fi"])
def test_language_switch_changes_page_language(client, worker_a, code):
    client.force_login(worker_a)

    response = switch_language(client, code)

    assert response.status_code == 302
    assert response.url == HOME
    content = html(client.get(HOME, follow=True))
    assert f'<html lang="{code}">' in content
    assert current_language_button(content) == code


@pytest.mark.django_db
def test_language_switcher_works_without_javascript_and_names_languages_in_their_own_language(client):
    content = html(client.get(LOGIN))

    form = re.search(r'<form class="lang-switch" action="/i18n/setlang/" method="post".*?</form>', content, re.S)
    assert form, "the switcher is a plain form posting to set_language"
    assert 'name="csrfmiddlewaretoken"' in form.group(0)
    assert f'name="next" value="{LOGIN}"' in form.group(0)
    for code, name in [("fi", "Suomi"), ("sv", "Svenska"), ("en", "English")]:
        assert f'value="{code}" lang="{code}"' in form.group(0)
        assert f">{name}</button>" in form.group(0)


@pytest.mark.django_db
def test_finnish_is_the_default_language(client, settings):
    settings.LANGUAGE_CODE = "fi"

    content = html(client.get(LOGIN))

    assert '<html lang="fi">' in content
    assert current_language_button(content) == "fi"
    # Needs the compiled Finnish catalogue (locale/fi/LC_MESSAGES/django.mo).
    assert "Etsivä työ" in content


def test_swedish_catalogue_translates_the_product_name(client, worker_a):
    """Needs the compiled Swedish catalogue (locale/sv/LC_MESSAGES/django.mo):
    if this fails, run `make messages` and translate "Outreach work"."""
    client.force_login(worker_a)
    switch_language(client, "sv")

    content = html(client.get(HOME, follow=True))

    assert "Uppsökande arbete" in content
    assert "Outreach work" not in content


# -- Assets ------------------------------------------------------------------


def asset_urls(content: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]*)"', content)


def test_no_asset_or_link_points_to_another_host(client, coordinator, with_totp):
    client.force_login(with_totp(coordinator))
    pages = [html(client.get(HOME)), html(client.get(reverse("account_change_password")))]
    client.logout()
    pages.append(html(client.get(LOGIN)))

    for content in pages:
        urls = asset_urls(content)
        assert urls, "found no src or href at all"
        for url in urls:
            parsed = urlparse(url)
            assert not parsed.scheme, url
            assert not parsed.netloc, url


def test_base_template_loads_css_and_htmx_from_static(client, worker_a):
    client.force_login(worker_a)

    content = html(client.get(HOME, follow=True))

    assert '<link rel="stylesheet" href="/static/css/app.css">' in content
    assert '<script src="/static/vendor/htmx/htmx.min.js" defer></script>' in content
    token = client.cookies["csrftoken"].value
    assert token
    assert re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'>", content)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in content


@pytest.mark.parametrize(
    "path",
    [
        "css/app.css",
        "vendor/htmx/htmx.min.js",
        "vendor/htmx/LICENSE",
        "vendor/source-sans-3/source-sans-3-latin-400-normal.woff2",
        "vendor/source-sans-3/source-sans-3-latin-ext-400-normal.woff2",
        "vendor/source-sans-3/source-sans-3-latin-600-normal.woff2",
        "vendor/source-sans-3/source-sans-3-latin-700-normal.woff2",
        "vendor/source-sans-3/LICENSE",
    ],
)
def test_static_files_are_found(path):
    assert finders.find(path), path


def test_stylesheet_fonts_are_all_vendored():
    found = finders.find("css/app.css")
    assert isinstance(found, str)
    css = Path(found).read_text(encoding="utf-8")
    fonts = re.findall(r'url\("\.\./(vendor/[^"]+)"\)', css)

    assert len(fonts) == 6
    for font in fonts:
        assert finders.find(font), font
    assert "http" not in re.sub(r"/\*.*?\*/", "", css, flags=re.S)


# -- allauth's pages in our shell ------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        reverse("account_login"),
        reverse("account_reset_password"),
        reverse("account_reset_password_done"),
        reverse("account_reset_password_from_key", kwargs={"uidb36": "x", "key": "bad-key"}),
        reverse("account_reset_password_from_key_done"),
        reverse("account_signup"),
    ],
)
def test_anonymous_account_pages_render_in_our_shell(client, url):
    response = client.get(url, follow=True)

    assert response.status_code == 200
    assert_shell(html(response))


@pytest.mark.django_db
def test_login_page_says_sign_up_is_closed_and_does_not_link_to_it(client):
    content = html(client.get(LOGIN))

    assert "ask your administrator for an account" in content
    assert reverse("account_signup") not in content
    assert f'href="{reverse("account_reset_password")}"' in content
    # Every field has a label tied to it.
    assert '<label for="id_login">' in content
    assert '<label for="id_password">' in content


@pytest.mark.django_db
def test_signup_page_says_ask_your_administrator(client):
    content = html(client.get(reverse("account_signup")))

    assert "Ask your administrator for an account." in content
    assert 'name="password1"' not in content


@pytest.mark.parametrize(
    "url_name",
    ["account_change_password", "account_logout", "mfa_index", "mfa_activate_totp"],
)
def test_signed_in_account_pages_render_in_our_shell(client, worker_a, url_name):
    client.force_login(worker_a)

    response = client.get(reverse(url_name), follow=True)

    assert response.status_code == 200
    content = html(response)
    assert_shell(content)
    assert '<nav class="site-nav"' in content


def test_mfa_pages_of_a_user_with_totp_render_in_our_shell(client, coordinator, with_totp):
    with_totp(coordinator)
    RecoveryCodes.activate(coordinator)
    client.force_login(coordinator)

    for url_name in ["mfa_index", "mfa_deactivate_totp", "mfa_view_recovery_codes", "mfa_generate_recovery_codes"]:
        # Managing MFA may first ask the user to confirm their password:
        # that page is in our shell too.
        response = client.get(reverse(url_name), follow=True)

        assert response.status_code == 200, url_name
        assert_shell(html(response))


def test_mfa_authenticate_stage_renders_in_our_shell(client, coordinator, with_totp):
    with_totp(coordinator)

    response = client.post(LOGIN, {"login": coordinator.email, "password": "correct horse battery"})

    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    response = client.get(response.url)
    assert response.status_code == 200
    content = html(response)
    assert_shell(content)
    assert 'name="code"' in content


# -- Messages and error pages ----------------------------------------------


def test_messages_are_announced_as_status(client, worker_a):
    client.force_login(worker_a)
    switch_language(client, "en")

    response = client.post(reverse("account_logout"), follow=True)

    content = html(response)
    assert '<div role="status">' in content
    assert re.search(r'<div role="status">\s*<ul class="messages">\s*<li class="success">', content)


@pytest.mark.django_db
def test_404_page_is_ours(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    content = html(response)
    assert "Page not found" in content
    assert_shell(content)


@pytest.mark.django_db
def test_500_page_renders_without_request_context_and_shows_no_trace():
    request = RequestFactory().get("/")

    response = server_error(request)

    assert response.status_code == 500
    content = response.content.decode()
    assert "Something went wrong" in content
    assert "Traceback" not in content
    assert "/static/css/app.css" in content
