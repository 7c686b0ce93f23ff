"""`Authorization: Token KEY` for scripts, against keys stored as digests.

Why not django-rest-knox, which also stores digests: it keeps no time of last
use, which the token page shows so that a forgotten or leaked key stands out,
and adding one means swapping its token model for a custom one anyway. Its
defaults (ten-hour expiry, login and logout views) suit browser sessions more
than long-lived script keys. The code here is small: a random key, its SHA-256
digest in `outreach.ApiToken`, and this authentication class.
"""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .mfa import second_factor_missing
from .models import ApiToken
from .services import api_token_digest

# Writing the time of last use on every request would turn each read into a
# write; a few minutes' precision is all the token page needs.
LAST_USED_PRECISION = datetime.timedelta(minutes=5)


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header: give the key after “Token ”."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token = ApiToken.objects.select_related("user").filter(digest=api_token_digest(key)).first()
        now = timezone.now()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("This API key has expired; make a new one."))
        if second_factor_missing(token.user):
            # A coordinator or admin without TOTP is sent to set it up in the
            # browser; a key must not be the way around that.
            raise exceptions.AuthenticationFailed(_("Set up two-factor sign-in before using an API key."))
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (with this challenge) rather than 403 to a
        # request without credentials.
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "outreach.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": str(_("A personal API key, sent as “Token KEY”. Make one on the page Account › API keys.")),
        }
