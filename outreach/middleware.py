"""Multi-factor authentication is required for coordinators and admins."""

from django.http import HttpResponseForbidden, JsonResponse
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

    allowed_prefixes = ("/accounts/", "/static/", "/i18n/")
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
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
