"""Multi-factor authentication is required for coordinators and admins."""

from django.shortcuts import redirect
from django.urls import reverse


class RequireMfaMiddleware:
    """Send a signed-in coordinator or admin without TOTP to set it up first.

    Only the pages needed to set up MFA, sign out and fetch static files stay
    reachable until then, so neither the app nor the admin can be used with a
    password alone.
    """

    allowed_prefixes = ("/accounts/", "/static/", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.requires_mfa
            and not request.path.startswith(self.allowed_prefixes)
            and not _has_totp(user)
        ):
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)


def _has_totp(user) -> bool:
    from .mfa import user_has_totp

    return user_has_totp(user)
