"""The second factor: who has one, and whether this session used it recently.

Used by the MFA middleware (browser), the token authentication (API), the
token page and the token services, so that every door asks the same question.
"""

import time

from django.conf import settings
from django.http import HttpRequest

from .models import User


def user_has_totp(user: User) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def second_factor_missing(user: User) -> bool:
    """A role that requires MFA without TOTP set up: nothing but the set-up pages may serve them."""
    return user.requires_mfa and not user_has_totp(user)


def recently_signed_in(request: HttpRequest, *, with_second_factor: bool) -> bool:
    """Whether this session authenticated (with the second factor, if asked) within API_TOKEN_SIGN_IN_MAX_AGE.

    allauth keeps a record of each authentication step of the session (the
    password, the TOTP code, a reauthentication); a TOTP step is recorded
    with the method "mfa".
    """
    from allauth.account.internal.flows.login import get_authentication_records

    oldest = time.time() - settings.API_TOKEN_SIGN_IN_MAX_AGE
    for record in get_authentication_records(request, request.user):
        if with_second_factor and record.get("method") != "mfa":
            continue
        if float(record.get("at", 0)) >= oldest:
            return True
    return False
