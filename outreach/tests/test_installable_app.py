"""The installable app: the web app manifest and the service worker at the site's root.

The service worker keeps static files and the field pages' copies, never an API
answer; what the device keeps is deleted when the user signs out.
"""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from outreach.views import OFFLINE_ASSETS

STATIC = Path(settings.BASE_DIR) / "static"


@pytest.mark.django_db
def test_the_service_worker_is_served_from_the_root_with_its_headers(client):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == "/"
    # Always fetched fresh, so that a new version reaches the devices at once.
    assert "no-store" in response["Cache-Control"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert reverse("service_worker") == "/sw.js"


@pytest.mark.django_db
def test_the_service_worker_keeps_only_static_files_and_the_field_pages(client):
    script = client.get("/sw.js").content.decode()

    for asset in OFFLINE_ASSETS:
        assert f'"/static/{asset}"' in script
        assert (STATIC / asset).exists(), asset
    assert 'var TODAY = "/field/";' in script
    found = re.search(r'var OUTING_PAGE = new RegExp\("(.*)"\);', script)
    assert found is not None
    outing_page = found.group(1)
    outing_page = outing_page.encode().decode("unicode_escape")
    assert re.match(outing_page, reverse("encounters:outing_detail", args=[12]))
    for other in ("/field/persons/3/", "/api/v1/encounters/", "/field/outings/3/offline/", "/feedback/abc/"):
        assert not re.match(outing_page, other)
    # Nothing of the API, and only GET requests are ever answered from the caches.
    assert "/api/" not in script
    assert 'request.method !== "GET"' in script


@pytest.mark.django_db
def test_the_service_worker_changes_with_the_language_and_the_idle_time(client, settings):
    settings.OFFLINE_IDLE_TIMEOUT = 600
    english = client.get("/sw.js", headers={"Accept-Language": "en"}).content.decode()
    finnish = client.get("/sw.js", headers={"Accept-Language": "fi"}).content.decode()

    assert "var IDLE_MS = 600000;" in english
    assert "No connection" in english
    assert "Ei yhteyttä" in finnish
    version = re.compile(r'var VERSION = "(\w+)";')
    english_version, finnish_version = version.search(english), version.search(finnish)
    assert english_version is not None
    assert finnish_version is not None
    assert english_version.group(1) != finnish_version.group(1)


@pytest.mark.django_db
def test_the_manifest_starts_at_today_with_icons_phones_ask_for(client):
    with translation.override("fi"):
        response = client.get("/manifest.webmanifest", headers={"Accept-Language": "fi"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["start_url"] == reverse("encounters:today")
    assert (manifest["scope"], manifest["display"]) == ("/", "standalone")
    assert manifest["name"] == "Etsivä työ"
    assert manifest["theme_color"].startswith("#")
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert (STATIC / icon["src"].removeprefix("/static/")).exists(), icon["src"]


@pytest.mark.django_db
def test_the_pages_name_the_manifest(client, worker_a):
    client.force_login(worker_a)
    page = client.get(reverse("encounters:today")).content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'id="offline-settings"' in page
    assert "/static/js/outbox.js" in page


@pytest.mark.django_db
def test_a_page_without_sign_in_has_no_outbox(client):
    page = client.get(reverse("account_login")).content.decode()
    assert "outbox.js" not in page
    assert 'id="offline-settings"' not in page


@pytest.mark.django_db
def test_the_outbox_texts_come_in_the_page_language(client, worker_a):
    client.force_login(worker_a)
    page = client.get(reverse("encounters:today"), headers={"Accept-Language": "sv"}).content.decode()
    found = re.search(r'<script id="offline-settings" type="application/json">(.*?)</script>', page)
    assert found is not None
    data = json.loads(found.group(1))
    assert data["user"] == worker_a.pk
    assert data["idleMs"] == settings.OFFLINE_IDLE_TIMEOUT * 1000
    assert data["texts"]["waiting"] == "Väntar på att skickas (%(count)s)"


@pytest.mark.django_db
def test_signing_out_asks_the_browser_to_delete_what_the_device_keeps(client, worker_a):
    client.force_login(worker_a)
    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"storage"'
    assert "Clear-Site-Data" not in client.get(reverse("account_login"))
