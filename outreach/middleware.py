"""Multi-factor authentication is required for coordinators and admins."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext


class RequireMfaMiddleware:
    """Send a signed-in coordinator or admin without TOTP to set it up first.

    Only the pages needed to set up MFA, sign out and fetch static files and
    icons stay reachable until then, so neither the app nor the admin can be
    used with a password alone. Only a page view is redirected to the setup
    page; anything else (a form post, an htmx or API call, a browser's own
    request for an icon or a manifest) is refused with 403 instead, so that
    nothing but the user opening a page lands on the setup page behind their
    back.
    """

    # /f/: the clients' public feedback pages, the same for whoever is signed in on the device.
    allowed_prefixes = ("/accounts/", "/static/", "/i18n/", "/f/")
    # What a browser or a phone asks for by itself, at the root of the site.
    allowed_paths = frozenset(
        {
            "/favicon.ico",
            "/apple-touch-icon.png",
            "/apple-touch-icon-precomposed.png",
            "/manifest.webmanifest",
            "/robots.txt",
        }
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and not request.path.startswith(self.allowed_prefixes)
            and request.path not in self.allowed_paths
            and needs_mfa_setup(user)
        ):
            if _is_page_view(request):
                return redirect(reverse("mfa_activate_totp"))
            message = gettext("Set up two-factor sign-in first.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=403)
            return HttpResponseForbidden(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _is_page_view(request) -> bool:
    if request.method not in ("GET", "HEAD") or request.headers.get("HX-Request"):
        return False
    accept = request.headers.get("Accept", "")
    # A browser navigating asks for text/html; a client that says nothing is
    # treated as one too (curl, the test client).
    return not accept or "text/html" in accept or ("*/*" in accept and "image/" not in accept)


def needs_mfa_setup(user) -> bool:
    """A signed-in user whose role requires a second factor and who has none yet."""
    return bool(user.is_authenticated and user.requires_mfa and not _has_totp(user))


def _has_totp(user) -> bool:
    from .mfa import user_has_totp

    return user_has_totp(user)


class SessionTimeoutMiddleware:
    """End a session after SESSION_IDLE_TIMEOUT without requests, or SESSION_ABSOLUTE_TIMEOUT after it began.

    Django's own expiry counts from the last save of the session; the session
    is saved here at most once a minute (not on every request), with its
    expiry moved forward, and the time it began is kept in it. A timed-out
    request goes on as an anonymous one: pages send it to sign in, the API
    answers 401.
    """

    TOUCH_EVERY = 60  # seconds

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    @staticmethod
    def start(request) -> None:
        """Mark the session as begun now (called on every sign-in, see outreach.apps)."""
        import time

        now = int(time.time())
        request.session["session_started_at"] = now
        request.session["session_seen_at"] = now

    def _check(self, request):
        import time

        from django.conf import settings
        from django.contrib.auth import logout

        now = int(time.time())
        session = request.session
        started = session.get("session_started_at")
        seen = session.get("session_seen_at")
        if started is None or seen is None:
            session["session_started_at"] = started if started is not None else now
            session["session_seen_at"] = now
            session.set_expiry(settings.SESSION_IDLE_TIMEOUT)
            return
        if now - seen > settings.SESSION_IDLE_TIMEOUT or now - started > settings.SESSION_ABSOLUTE_TIMEOUT:
            logout(request)
            return
        if now - seen >= self.TOUCH_EVERY:
            session["session_seen_at"] = now
            session.set_expiry(settings.SESSION_IDLE_TIMEOUT)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every answer of the app: pages and API answers carry client data.

    Static files never reach this (WhiteNoise answers them earlier, with their
    own long caching).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils.cache import add_never_cache_headers, patch_cache_control

        response = self.get_response(request)
        if "Cache-Control" in response.headers:
            patch_cache_control(response, no_store=True)
        else:
            add_never_cache_headers(response)
        return response


class ClearSiteDataOnSignOutMiddleware:
    """Ask the browser to delete what the field pages keep on the device when the user signs out.

    `Clear-Site-Data: "storage"` empties the outbox (IndexedDB) and the service
    worker's caches even where the page's own clean-up (static/js/outbox.js) did
    not run, e.g. a sign-out without JavaScript.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.urls import reverse

        response = self.get_response(request)
        if (
            request.method == "POST"
            and request.path == reverse("account_logout")
            and response.status_code in (302, 303)
        ):
            response["Clear-Site-Data"] = '"storage"'
        return response
