"""Client feedback: links, the public form, privacy and abuse rules, the 7-answer rule, comments, surveys."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from outreach.models import AuditEntry
from outreach.tests.factories import FieldSiteFactory, OutingFactory
from outreach.vocabulary import OutingStatus, SiteType
from reports import services
from reports.models import ClientFeedback, FeedbackLink, Survey, SurveyResponse
from reports.services import feedback_record

TODAY = timezone.localdate


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def site_a(team_a):
    return FieldSiteFactory(team=team_a, name="Päiväkeskus", site_type=SiteType.DAY_CENTRE)


@pytest.fixture
def outing_a(team_a, site_a, worker_a, expert_a):
    return OutingFactory(
        team=team_a, site=site_a, participants=[worker_a, expert_a], status=OutingStatus.PLANNED, date=TODAY()
    )


@pytest.fixture
def link(worker_a, site_a, outing_a):
    """A link made for today's outing and its token."""
    return services.feedback_link_create(actor=worker_a, site=site_a, outing=outing_a)


def form_url(token: str, **query) -> str:
    url = reverse("feedback_form", kwargs={"token": token})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def answer(client, token, **fields):
    data = {"score": "4", "got_help": "yes", "talk_again": "dont_know", "comment": ""} | fields
    return client.post(form_url(token), data, REMOTE_ADDR=fields.pop("address", "203.0.113.7"))


# Links ---------------------------------------------------------------------


def test_a_worker_makes_a_link_for_their_sites_outing(worker_a, site_a, outing_a):
    response = api(worker_a).post("/api/v1/feedback-links/", {"site": site_a.pk, "outing": outing_a.pk}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "url", "expires_at"}
    token = body["url"].rstrip("/").rsplit("/", 1)[-1]
    assert body["url"] == f"http://testserver/f/{token}/"
    assert len(token) >= 22  # 128 random bits: not guessable
    link = FeedbackLink.objects.get(pk=body["id"])
    # Only the digest is stored: the token is nowhere in the row.
    assert token not in str(link.__dict__)
    assert link.digest == services.feedback_link_digest(token)
    # The end of the outing's day, Helsinki time.
    expires = datetime.datetime.fromisoformat(body["expires_at"])
    assert expires.astimezone(timezone.get_default_timezone()) == timezone.make_aware(
        datetime.datetime.combine(outing_a.date + datetime.timedelta(days=1), datetime.time.min)
    )
    assert AuditEntry.objects.filter(model="reports.feedbacklink", object_id=str(link.pk), actor=worker_a).exists()


def test_a_link_for_a_site_alone_expires_at_the_end_of_today(worker_a, site_a):
    response = api(worker_a).post("/api/v1/feedback-links/", {"site": site_a.pk}, format="json")
    assert response.status_code == 201
    link = FeedbackLink.objects.get()
    assert link.outing is None
    assert timezone.localtime(link.expires_at).date() == TODAY() + datetime.timedelta(days=1)
    assert timezone.localtime(link.expires_at).time() == datetime.time.min


def test_an_expiry_in_the_past_is_refused(worker_a, site_a):
    past = (timezone.now() - datetime.timedelta(minutes=1)).isoformat()
    response = api(worker_a).post("/api/v1/feedback-links/", {"site": site_a.pk, "expires_at": past}, format="json")
    assert response.status_code == 400
    assert "expires_at" in response.json()
    assert not FeedbackLink.objects.exists()


def test_a_given_expiry_is_kept(worker_a, site_a):
    later = timezone.now() + datetime.timedelta(days=3)
    response = api(worker_a).post(
        "/api/v1/feedback-links/", {"site": site_a.pk, "expires_at": later.isoformat()}, format="json"
    )
    assert response.status_code == 201
    assert FeedbackLink.objects.get().expires_at == later


def test_another_teams_site_and_outing_are_refused(worker_b, site_a, outing_a):
    response = api(worker_b).post("/api/v1/feedback-links/", {"site": site_a.pk}, format="json")
    assert response.status_code == 403
    response = api(worker_b).post("/api/v1/feedback-links/", {"site": site_a.pk, "outing": outing_a.pk}, format="json")
    assert response.status_code == 400
    assert "outing" in response.json()
    assert not FeedbackLink.objects.exists()


def test_an_outing_at_another_site_is_refused(worker_a, team_a, outing_a):
    elsewhere = FieldSiteFactory(team=team_a)
    response = api(worker_a).post(
        "/api/v1/feedback-links/", {"site": elsewhere.pk, "outing": outing_a.pk}, format="json"
    )
    assert response.status_code == 400
    assert "outing" in response.json()


def test_an_expert_asks_only_for_their_own_outing(expert_a, site_a, outing_a, team_a):
    assert api(expert_a).post("/api/v1/feedback-links/", {"site": site_a.pk}, format="json").status_code == 403
    other = OutingFactory(team=team_a, site=site_a)
    response = api(expert_a).post("/api/v1/feedback-links/", {"site": site_a.pk, "outing": other.pk}, format="json")
    assert response.status_code == 400
    response = api(expert_a).post("/api/v1/feedback-links/", {"site": site_a.pk, "outing": outing_a.pk}, format="json")
    assert response.status_code == 201


def test_anonymous_cannot_make_links(site_a):
    assert api().post("/api/v1/feedback-links/", {"site": site_a.pk}, format="json").status_code == 401


def test_bad_input_names_the_field(worker_a):
    response = api(worker_a).post("/api/v1/feedback-links/", {"site": "x", "expires_at": "tomorrow"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"site", "expires_at"}


# The form --------------------------------------------------------------------


def test_a_valid_link_opens_the_form_without_sign_in(client, link):
    _, token = link
    response = client.get(form_url(token))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="score"' in page
    assert 'name="got_help"' in page
    assert 'name="talk_again"' in page
    assert "Päiväkeskus" in page
    assert response["Cache-Control"].count("no-store") == 1


@pytest.mark.parametrize(
    ("header", "query", "expected"),
    [
        ("sv-SE,sv;q=0.9", {}, "Hur gick det?"),
        ("en-GB,en;q=0.9", {}, "How did it go?"),
        ("fi-FI", {}, "Miten meni?"),
        ("en-GB", {"lang": "sv"}, "Hur gick det?"),
        ("sv", {"lang": "fi"}, "Miten meni?"),
    ],
)
def test_the_form_speaks_the_language_asked_for(client, link, header, query, expected):
    _, token = link
    response = client.get(form_url(token, **query), HTTP_ACCEPT_LANGUAGE=header)
    assert expected in response.content.decode()


def test_an_answer_is_stored_and_thanked(client, link, site_a, outing_a):
    feedback_link, token = link
    response = answer(client, token, comment="Hyvä palvelu", lang="sv")
    assert response.status_code == 302
    assert response["Location"] == reverse("feedback_thanks", kwargs={"token": token}) + "?lang=sv"
    thanks = client.get(response["Location"])
    assert "Tack!" in thanks.content.decode()
    stored = ClientFeedback.objects.get()
    assert (stored.site, stored.outing, stored.link, stored.given_on) == (site_a, outing_a, feedback_link, TODAY())
    assert (stored.score, stored.got_help, stored.talk_again, stored.comment) == (4, "yes", "dont_know", "Hyvä palvelu")
    assert stored.language == "sv"


def test_no_client_data_is_stored_with_an_answer(client, link):
    _, token = link
    client.post(
        form_url(token),
        {"score": "5"},
        REMOTE_ADDR="198.51.100.23",
        HTTP_USER_AGENT="TestBrowser/1.0 (secret-device)",
    )
    row = ClientFeedback.objects.values().get()
    # The columns an answer has: the place, the day and the answers; nothing else.
    assert set(row) == {
        "id", "site_id", "outing_id", "link_id", "given_on", "score", "got_help", "talk_again",
        "language", "comment", "comment_flagged", "comment_hidden",
    }  # fmt: skip
    assert not any("198.51.100.23" in str(value) or "TestBrowser" in str(value) for value in row.values())
    assert not AuditEntry.objects.filter(model="reports.clientfeedback").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"score": "6"}, "score"),
        ({"score": "0"}, "score"),
        ({"score": "good"}, "score"),
        ({}, "score"),
        ({"score": "3", "got_help": "maybe"}, "got_help"),
        ({"score": "3", "talk_again": "sure"}, "talk_again"),
        ({"score": "3", "comment": "x" * 2001}, "comment"),
    ],
)
def test_a_bad_value_gets_the_form_back_and_stores_nothing(client, link, data, field):
    _, token = link
    response = client.post(form_url(token), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert 'role="alert"' in response.content.decode()
    assert not ClientFeedback.objects.exists()


def test_an_expired_link_gets_a_friendly_410(client, worker_a, site_a):
    feedback_link, token = services.feedback_link_create(actor=worker_a, site=site_a)
    FeedbackLink.objects.filter(pk=feedback_link.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get(form_url(token), HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 410
    assert "Länken har gått ut" in response.content.decode()
    assert answer(client, token).status_code == 410
    assert not ClientFeedback.objects.exists()


@pytest.mark.parametrize("token", ["forged-token-AAAAAAAAAAAA", "x" * 200, "a"])
def test_a_forged_link_gets_a_friendly_404(client, link, token):
    response = client.get(form_url(token), HTTP_ACCEPT_LANGUAGE="fi")
    assert response.status_code == 404
    assert "Linkkiä ei löytynyt" in response.content.decode()
    assert answer(client, token).status_code == 404
    assert not ClientFeedback.objects.exists()


def test_kiosk_mode_returns_to_a_clean_form(client, link):
    _, token = link
    response = client.post(
        form_url(token, kiosk=1, lang="fi"), {"score": "2", "got_help": "no", "comment": "Jonotin kauan"}, follow=True
    )
    page = response.content.decode()
    clean = form_url(token, lang="fi", kiosk=1).replace("&", "&amp;")
    assert f'<meta http-equiv="refresh" content="6;url={clean}">' in page
    assert "Jonotin" not in page
    again = client.get(form_url(token, lang="fi", kiosk=1)).content.decode()
    assert "checked" not in again
    assert "Jonotin" not in again
    assert 'autocomplete="off"' in again
    assert ClientFeedback.objects.count() == 1


def test_the_rate_limit_lets_a_kiosk_through_and_stops_a_script(client, link, settings):
    _, token = link
    for _n in range(settings.FEEDBACK_RATE_PER_ADDRESS):
        assert answer(client, token).status_code == 302
    response = answer(client, token)
    assert response.status_code == 429
    assert ClientFeedback.objects.count() == settings.FEEDBACK_RATE_PER_ADDRESS
    # Another address still gets through; the limit is per address.
    assert answer(client, token, address="203.0.113.8").status_code == 302
    assert settings.FEEDBACK_RATE_PER_ADDRESS >= 30
    assert settings.FEEDBACK_RATE_WINDOW <= 600


def test_the_rate_limit_keeps_only_a_salted_hash_in_the_cache(client, link):
    from django.core.cache import cache

    _, token = link
    answer(client, token, address="192.0.2.44")
    keys = list(cache._cache.keys())  # type: ignore[attr-defined]  # the test settings' locmem cache
    assert keys
    assert not any("192.0.2.44" in key for key in keys)


def test_the_per_link_limit_stops_many_addresses(client, link, settings):
    settings.FEEDBACK_RATE_PER_LINK = 5
    _, token = link
    for n in range(5):
        assert answer(client, token, address=f"203.0.113.{n}").status_code == 302
    assert answer(client, token, address="203.0.113.99").status_code == 429


def test_a_filled_honeypot_is_dropped_silently(client, link):
    _, token = link
    response = answer(client, token, website="http://spam.example")
    assert response.status_code == 302
    assert not ClientFeedback.objects.exists()


def test_a_comment_full_of_links_is_dropped_silently(client, link):
    _, token = link
    response = answer(client, token, comment="Cheap pills http://a.example www.b.example")
    assert response.status_code == 302
    assert not ClientFeedback.objects.exists()
    assert answer(client, token, comment="Katsoin ohjeet osoitteesta www.kela.fi").status_code == 302
    assert ClientFeedback.objects.count() == 1


# Identifiers in comments -------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Soita minulle 040 123 4567 kiitos", "Soita minulle [hidden] kiitos"),
        ("Hetuni on 131052-308T.", "Hetuni on [hidden]."),
        ("Posti: matti.meikalainen@example.fi", "Posti: [hidden]"),
        ("numero +358 50 765 4321", "numero [hidden]"),
    ],
)
def test_identifiers_are_masked_and_the_comment_flagged(client, link, comment, expected):
    _, token = link
    answer(client, token, comment=comment)
    stored = ClientFeedback.objects.get()
    assert stored.comment == expected
    assert stored.comment_flagged


def test_a_plain_comment_is_not_flagged(client, link):
    _, token = link
    answer(client, token, comment="Sain apua asuntoasiaan 12.5.2026, kiitos 2 tunnin juttutuokiosta")
    stored = ClientFeedback.objects.get()
    assert not stored.comment_flagged
    assert "[hidden]" not in stored.comment


def make_answers(site, count, *, outing=None, score=4, comment="", day=None):
    # Through the one write of feedback, which keeps its rollup; the comment is stored as given (unmasked).
    return [
        feedback_record(
            site=site, outing=outing, score=score, got_help="yes", talk_again="yes", comment=comment,
            given_on=day or TODAY(),
        )
        for _ in range(count)
    ]  # fmt: skip


def period():
    return {"start": (TODAY() - datetime.timedelta(days=6)).isoformat(), "end": TODAY().isoformat()}


def test_comments_api_masks_identifiers_even_in_rows_written_elsewhere(coordinator, with_totp, site_a):
    with_totp(coordinator)
    [written] = make_answers(site_a, 1, comment="Call 0401234567 or me@example.org")
    response = api(coordinator).get("/api/v1/feedback/comments/", period())
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert {key: row[key] for key in ("id", "given_on", "site", "text", "flagged")} == {
        "id": written.pk,
        "given_on": TODAY().isoformat(),
        "site": site_a.pk,
        "text": "Call [hidden] or [hidden]",
        "flagged": False,
    }


def test_a_coordinator_hides_a_comment_entirely(client, coordinator, with_totp, site_a):
    with_totp(coordinator)
    [feedback] = make_answers(site_a, 1, comment="Ikävä kokemus")
    client.force_login(coordinator)
    response = client.post(reverse("reports:feedback_comment_hide", kwargs={"pk": feedback.pk}))
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.comment_hidden
    assert api(coordinator).get("/api/v1/feedback/comments/", period()).json()["results"] == []
    assert "Ikävä kokemus" not in client.get(reverse("reports:feedback"), period()).content.decode()
    assert AuditEntry.objects.filter(model="reports.clientfeedback", object_id=str(feedback.pk)).exists()


def test_workers_cannot_hide_comments(client, worker_a, site_a):
    [feedback] = make_answers(site_a, 1, comment="x")
    client.force_login(worker_a)
    assert client.post(reverse("reports:feedback_comment_hide", kwargs={"pk": feedback.pk})).status_code == 403
    feedback.refresh_from_db()
    assert not feedback.comment_hidden


# The 7-answer rule -----------------------------------------------------------


def test_the_feedback_report_suppresses_groups_below_seven(coordinator, with_totp, site_a, team_a):
    with_totp(coordinator)
    small = FieldSiteFactory(team=team_a, name="Tori", site_type=SiteType.STREET)
    make_answers(site_a, 7, score=4)
    make_answers(small, 3, score=1)
    response = api(coordinator).get("/api/v1/reports/feedback/", {**period(), "group": "site"})
    assert response.status_code == 200
    body = response.json()
    assert body["group"] == "site"
    rows = {row["key"]: row for row in body["rows"]}
    assert rows[site_a.pk] | {"label": None} == {
        "key": site_a.pk,
        "label": None,
        "count": 7,
        "suppressed": False,
        "mean_score": 4.0,
        "got_help": {"yes": 7, "partly": 0, "no": 0},
        "talk_again": {"yes": 7, "no": 0, "dont_know": 0},
    }
    assert rows[small.pk] | {"label": None} == {
        "key": small.pk,
        "label": None,
        "count": 3,
        "suppressed": True,
        "mean_score": None,
        "got_help": None,
        "talk_again": None,
    }
    by_type = api(coordinator).get("/api/v1/reports/feedback/", {**period(), "group": "site_type"}).json()
    types = {row["key"]: row for row in by_type["rows"]}
    assert set(types) == set(SiteType.values)
    assert types["day_centre"]["mean_score"] == 4.0
    assert types["street"]["suppressed"]
    assert types["street"]["count"] == 3
    assert types["event"] == {
        "key": "event", "label": "Event", "count": 0, "suppressed": True,
        "mean_score": None, "got_help": None, "talk_again": None,
    }  # fmt: skip


def test_the_feedback_report_checks_its_parameters(coordinator, with_totp):
    with_totp(coordinator)
    response = api(coordinator).get("/api/v1/reports/feedback/", {"start": "2026-13-01", "group": "weather"})
    assert response.status_code == 400
    assert set(response.json()) >= {"start", "end", "group"}


def test_the_summary_mean_follows_the_seven_answer_rule(coordinator, with_totp, site_a):
    with_totp(coordinator)
    make_answers(site_a, 6, score=5)
    data = api(coordinator).get("/api/v1/reports/summary/", period()).json()
    assert (data["feedback_count"], data["feedback_mean_score"]) == (6, None)
    make_answers(site_a, 1, score=1)
    data = api(coordinator).get("/api/v1/reports/summary/", period()).json()
    assert (data["feedback_count"], data["feedback_mean_score"]) == (7, 4.43)


def test_the_results_page_shows_a_site_only_from_seven_answers(client, coordinator, with_totp, site_a, team_a):
    with_totp(coordinator)
    small = FieldSiteFactory(team=team_a, name="Tori")
    make_answers(site_a, 7, score=3, comment="Mukavaa")
    make_answers(small, 3, score=5, comment="Pieni")
    client.force_login(coordinator)
    response = client.get(reverse("reports:feedback"), {**period(), "group": "site"})
    assert response.status_code == 200
    page = response.content.decode()
    rows = {row["key"]: row for row in response.context["rows"]}
    assert rows[site_a.pk]["mean_score"] == 3.0
    assert rows[small.pk]["mean_score"] is None
    assert "fewer than 7 answers" in page
    assert "3.00" in page
    assert "5.00" not in page


def test_the_period_report_and_its_exports_follow_the_rule(client, coordinator, with_totp, site_a, team_a):
    with_totp(coordinator)
    small = FieldSiteFactory(team=team_a, name="Tori")
    make_answers(site_a, 7, score=3, comment="Mukavaa")
    make_answers(small, 3, score=5, comment="Pieni paikka")
    client.force_login(coordinator)
    query = period()
    csv = client.get(reverse("reports:period"), {**query, "format": "csv", "table": "feedback_by_site"})
    assert csv.status_code == 200
    text = csv.content.decode()
    assert "Päiväkeskus" in text
    assert "fewer than 7 answers" in text
    tori = next(line for line in text.splitlines() if line.startswith("Tori"))
    assert "5" not in tori.split(",", 2)[2]
    comments = client.get(reverse("reports:period"), {**query, "format": "csv", "table": "feedback_comments"})
    assert "Mukavaa" in comments.content.decode()
    assert "Pieni paikka" not in comments.content.decode()
    workbook = load_workbook(io.BytesIO(client.get(reverse("reports:period"), {**query, "format": "xlsx"}).content))
    cells = [str(cell) for row in workbook["feedback_by_site"].iter_rows(values_only=True) for cell in row]
    assert "fewer than 7 answers" in cells
    comment_cells = [str(c) for row in workbook["feedback_comments"].iter_rows(values_only=True) for c in row]
    assert "Mukavaa" in comment_cells
    assert "Pieni paikka" not in comment_cells
    html = client.get(reverse("reports:period"), query).content.decode()
    assert "Pieni paikka" not in html


def test_a_workers_period_report_has_no_feedback_breakdowns(client, worker_a, site_a):
    make_answers(site_a, 8, comment="Mukavaa")
    client.force_login(worker_a)
    response = client.get(reverse("reports:period"), period())
    assert response.status_code == 200
    assert "Mukavaa" not in response.content.decode()
    assert "feedback_by_site" not in response.content.decode()


# Access ----------------------------------------------------------------------


def test_only_coordinators_see_results_and_comments(worker_a, expert_a, coordinator, with_totp):
    with_totp(coordinator)
    for path in ("/api/v1/reports/feedback/", "/api/v1/feedback/comments/"):
        query = {**period(), "group": "site"}
        assert api().get(path, query).status_code == 401
        assert api(worker_a).get(path, query).status_code == 403
        assert api(expert_a).get(path, query).status_code == 403
        assert api(coordinator).get(path, query).status_code == 200


def test_a_coordinator_sees_no_other_areas_feedback(coordinator, with_totp, team_other_area):
    with_totp(coordinator)
    far = FieldSiteFactory(team=team_other_area)
    make_answers(far, 8, comment="Kaukana")
    body = api(coordinator).get("/api/v1/reports/feedback/", {**period(), "group": "site"}).json()
    assert body["rows"] == []
    assert api(coordinator).get("/api/v1/feedback/comments/", period()).json()["results"] == []


def test_a_worker_sees_the_count_of_answers_for_their_outing(client, worker_a, worker_b, outing_a, site_a):
    make_answers(site_a, 2, outing=outing_a)
    make_answers(site_a, 5)
    client.force_login(worker_a)
    response = client.get(reverse("reports:feedback_ask_outing", kwargs={"pk": outing_a.pk}))
    assert response.status_code == 200
    assert response.context["answer_count"] == 2
    assert "2 feedback answers for this outing so far." in response.content.decode()
    client.force_login(worker_b)
    assert client.get(reverse("reports:feedback_ask_outing", kwargs={"pk": outing_a.pk})).status_code == 404


def test_ask_for_feedback_shows_a_qr_code_and_a_link(client, worker_a, outing_a):
    client.force_login(worker_a)
    response = client.post(reverse("reports:feedback_ask_outing", kwargs={"pk": outing_a.pk}))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page
    assert "<path" in page
    url = response.context["url"]
    assert url in page
    assert f"{url}?kiosk=1" in page
    token = url.rstrip("/").rsplit("/", 1)[-1]
    made = services.feedback_link_for_token(token)
    assert made is not None
    assert made.outing == outing_a


def test_ask_for_feedback_on_the_site_page(client, worker_a, worker_b, expert_a, site_a):
    client.force_login(worker_a)
    assert (
        reverse("reports:feedback_ask_site", kwargs={"pk": site_a.pk})
        in client.get(reverse("outreach:site_list")).content.decode()
    )
    assert client.post(reverse("reports:feedback_ask_site", kwargs={"pk": site_a.pk})).status_code == 200
    for other in (worker_b, expert_a):
        client.force_login(other)
        assert (
            reverse("reports:feedback_ask_site", kwargs={"pk": site_a.pk})
            not in client.get(reverse("outreach:site_list")).content.decode()
        )
        assert client.post(reverse("reports:feedback_ask_site", kwargs={"pk": site_a.pk})).status_code == 403
    assert FeedbackLink.objects.count() == 1


def test_the_outing_page_offers_ask_for_feedback(client, expert_a, outing_a):
    client.force_login(expert_a)
    page = client.get(reverse("encounters:outing_detail", kwargs={"pk": outing_a.pk})).content.decode()
    assert reverse("reports:feedback_ask_outing", kwargs={"pk": outing_a.pk}) in page


def test_the_results_page_query_count_does_not_grow(
    client, coordinator, with_totp, team_a, django_assert_max_num_queries
):
    with_totp(coordinator)
    for n in range(6):
        make_answers(FieldSiteFactory(team=team_a, name=f"S{n}"), 8, comment=f"c{n}")
    client.force_login(coordinator)
    with django_assert_max_num_queries(22):
        assert client.get(reverse("reports:feedback"), {**period(), "group": "site"}).status_code == 200


# Surveys -------------------------------------------------------------------

SCALE = {"fi": "Kuinka tyytyväinen olet?", "sv": "Hur nöjd är du?", "en": "How satisfied are you?"}
QUESTIONS = [
    {"kind": "scale", "text": SCALE},
    {
        "kind": "single",
        "text": {"fi": "Mistä kuulit meistä?", "sv": "Var hörde du om oss?", "en": "Where did you hear of us?"},
        "choices": [
            {"fi": "Kaverilta", "sv": "Av en vän", "en": "From a friend"},
            {"fi": "Netistä", "sv": "På nätet", "en": "Online"},
        ],
    },
    {
        "kind": "multiple",
        "text": {"fi": "Mitä tarvitset?", "sv": "Vad behöver du?", "en": "What do you need?"},
        "choices": [{"fi": "Asunto", "sv": "Bostad", "en": "Housing"}, {"fi": "Työ", "sv": "Arbete", "en": "Work"}],
    },
    {"kind": "text", "text": {"fi": "Muuta?", "sv": "Annat?", "en": "Anything else?"}},
]


def survey_payload(**changes):
    return {
        "title": "Alkukysely",
        "opens_on": TODAY().isoformat(),
        "closes_on": (TODAY() + datetime.timedelta(days=30)).isoformat(),
        "questions": QUESTIONS,
    } | changes


@pytest.fixture
def survey(coordinator, with_totp):
    with_totp(coordinator)
    response = api(coordinator).post("/api/v1/surveys/", survey_payload(), format="json")
    assert response.status_code == 201
    return Survey.objects.get(pk=response.json()["id"])


def test_a_coordinator_defines_a_survey(coordinator, with_totp):
    with_totp(coordinator)
    response = api(coordinator).post("/api/v1/surveys/", survey_payload(), format="json")
    assert response.status_code == 201
    body = response.json()
    survey = Survey.objects.get(pk=body["id"])
    assert body["url"] == f"http://testserver/f/s/{survey.token}/"
    assert [q.kind for q in survey.questions.all()] == ["scale", "single", "multiple", "text"]
    assert survey.questions.get(kind="single").choices.count() == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"questions": [{"kind": "scale", "text": {"fi": "Kysymys", "en": "Question"}}]}, "questions"),
        ({"questions": [{"kind": "single", "text": SCALE, "choices": []}]}, "questions"),
        ({"questions": [{"kind": "stars", "text": SCALE}]}, "questions"),
        ({"questions": []}, "questions"),
        ({"closes_on": "2020-01-01"}, "closes_on"),
        ({"title": ""}, "title"),
    ],
)
def test_a_bad_survey_is_refused_naming_the_field(coordinator, with_totp, changes, field):
    with_totp(coordinator)
    response = api(coordinator).post("/api/v1/surveys/", survey_payload(**changes), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Survey.objects.exists()


def test_workers_cannot_define_surveys(worker_a, expert_a):
    assert api(worker_a).post("/api/v1/surveys/", survey_payload(), format="json").status_code == 403
    assert api(expert_a).post("/api/v1/surveys/", survey_payload(), format="json").status_code == 403
    assert api().post("/api/v1/surveys/", survey_payload(), format="json").status_code == 401


@pytest.mark.parametrize(
    ("lang", "header", "text"),
    [("sv", "", "Hur nöjd är du?"), ("", "en-GB", "How satisfied are you?"), ("", "fi", "Kuinka tyytyväinen olet?")],
)
def test_the_survey_page_answers_a_signed_out_get_in_the_language_asked_for(client, survey, lang, header, text):
    url = reverse("survey_form", kwargs={"token": survey.token}) + (f"?lang={lang}" if lang else "")
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=header)
    assert response.status_code == 200
    assert text in response.content.decode()


def survey_answer(client, survey, address="203.0.113.50", **values):
    questions = {q.kind: q for q in survey.questions.all()}
    single = list(questions["single"].choices.all())
    multiple = list(questions["multiple"].choices.all())
    data = {
        f"q{questions['scale'].pk}": values.get("scale", "4"),
        f"q{questions['single'].pk}": values.get("single", str(single[0].pk)),
        f"q{questions['multiple'].pk}": values.get("multiple", [str(c.pk) for c in multiple]),
        f"q{questions['text'].pk}": values.get("text", "Kiitos"),
    }
    return client.post(reverse("survey_form", kwargs={"token": survey.token}), data, REMOTE_ADDR=address)


def test_answering_a_survey_and_its_results_with_the_seven_answer_rule(client, coordinator, survey):
    for _n in range(6):
        assert survey_answer(client, survey).status_code == 200
    assert SurveyResponse.objects.count() == 6
    client.force_login(coordinator)
    page = client.get(reverse("reports:survey_detail", kwargs={"pk": survey.pk}))
    assert page.context["results"]["suppressed"]
    assert "Kiitos" not in page.content.decode()
    workbook = load_workbook(
        io.BytesIO(client.get(reverse("reports:survey_detail", kwargs={"pk": survey.pk}), {"format": "xlsx"}).content)
    )
    assert workbook["answers"].max_row == 1  # the header only
    client.logout()
    survey_answer(client, survey, scale="1", text="Soita 040 123 4567")
    client.force_login(coordinator)
    results = client.get(reverse("reports:survey_detail", kwargs={"pk": survey.pk})).context["results"]
    assert not results["suppressed"]
    assert results["responses"] == 7
    scale = results["questions"][0]
    assert scale["mean"] == 3.57
    assert dict(scale["distribution"])["4"] == 6
    multiple = results["questions"][2]
    assert [count for _choice, count in multiple["distribution"]] == [7, 7]
    assert "Soita [hidden]" in results["questions"][3]["texts"]
    workbook = load_workbook(
        io.BytesIO(client.get(reverse("reports:survey_detail", kwargs={"pk": survey.pk}), {"format": "xlsx"}).content)
    )
    rows = list(workbook["answers"].iter_rows(values_only=True))
    assert len(rows) == 8
    assert "Asunto;Työ" in rows[1]
    assert AuditEntry.objects.filter(model="reports.survey", action="export").count() == 2


def test_a_bad_survey_answer_is_refused_and_stores_nothing(client, survey):
    response = survey_answer(client, survey, scale="9")
    assert response.status_code == 400
    response = survey_answer(client, survey, single="999999")
    assert response.status_code == 400
    assert "Choose one of the options shown." in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_closed_survey_gets_410_and_a_forged_one_404(client, coordinator, survey):
    client.force_login(coordinator)
    assert client.post(reverse("reports:survey_close", kwargs={"pk": survey.pk})).status_code == 302
    client.logout()
    assert client.get(reverse("survey_form", kwargs={"token": survey.token})).status_code == 410
    assert survey_answer(client, survey).status_code == 410
    assert client.get(reverse("survey_form", kwargs={"token": "nope"})).status_code == 404
    assert not SurveyResponse.objects.exists()


def test_only_coordinators_see_surveys(client, worker_a, survey):
    client.force_login(worker_a)
    assert client.get(reverse("reports:surveys")).status_code == 403
    assert client.get(reverse("reports:survey_detail", kwargs={"pk": survey.pk})).status_code == 403


def test_a_link_for_a_past_outing_works_until_the_end_of_today(worker_a, site_a, team_a):
    past = OutingFactory(team=team_a, site=site_a, participants=[worker_a], date=TODAY() - datetime.timedelta(days=3))
    response = api(worker_a).post("/api/v1/feedback-links/", {"site": site_a.pk, "outing": past.pk}, format="json")
    assert response.status_code == 201
    assert timezone.localtime(FeedbackLink.objects.get().expires_at).date() == TODAY() + datetime.timedelta(days=1)


def test_a_planned_outing_in_the_future_keeps_its_own_day(worker_a, site_a, team_a):
    later = OutingFactory(team=team_a, site=site_a, participants=[worker_a], date=TODAY() + datetime.timedelta(days=2))
    services.feedback_link_create(actor=worker_a, site=site_a, outing=later)
    assert timezone.localtime(FeedbackLink.objects.get().expires_at).date() == later.date + datetime.timedelta(days=1)
