"""Pages go compressed to a browser that accepts gzip (the field pages' weight, docs/SCALING.md), padded
against BREACH; the static files are whitenoise's own."""

import gzip
import re

from django.urls import reverse

from encounters.tests.factories import EncounterFactory

TITLE = re.compile(r"<title>.*?</title>", re.S)


def test_the_today_page_goes_compressed_and_varies_by_accepted_encoding(client, worker_a):
    client.force_login(worker_a)

    plain = client.get(reverse("encounters:today"))
    compressed = client.get(reverse("encounters:today"), headers={"accept-encoding": "gzip, deflate, br"})

    assert plain.status_code == 200
    assert "Content-Encoding" not in plain
    assert compressed.status_code == 200
    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed["Vary"]
    html = gzip.decompress(compressed.content).decode()
    title = TITLE.search(plain.content.decode())
    assert title is not None
    assert title.group() in html
    assert len(compressed.content) < len(plain.content) / 2


def test_two_compressed_answers_of_the_same_page_differ_in_length_by_the_padding(client, worker_a):
    """Django's BREACH mitigation: random bytes in each gzip header, so that lengths do not follow content."""
    client.force_login(worker_a)
    lengths = {
        len(client.get(reverse("encounters:today"), headers={"accept-encoding": "gzip"}).content) for _ in range(8)
    }
    assert len(lengths) > 1


def test_api_answers_are_compressed_too_and_stay_json(client, worker_a, team_a):
    for _ in range(5):
        EncounterFactory(team=team_a)
    client.force_login(worker_a)

    response = client.get("/api/v1/encounters/", headers={"accept-encoding": "gzip"})

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert response["Content-Type"].startswith("application/json")
    assert '"count":5' in gzip.decompress(response.content).decode().replace(" ", "")
