"""The second factor: who has one, whether this session used it recently, and its setup.

Used by the MFA middleware (browser), the token authentication (API), the
token page and the token services, so that every door asks the same question.

Setup: allauth's activation form makes a new secret on every GET of the setup
page. A second load of the page (a reload, a language switch, the browser's
own request for an icon that was once sent there) then replaced the secret the
user had already scanned, and every code from the app was refused. The secret
here stays the same until the activation succeeds (allauth clears it from the
session then), so what is on the screen is what the server checks.
"""

import time

from allauth.mfa.totp.forms import ActivateTOTPForm as AllauthActivateTOTPForm
from allauth.mfa.totp.internal import auth
from django import forms
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


class ActivateTOTPForm(AllauthActivateTOTPForm):
    def __init__(self, *args, **kwargs) -> None:
        self.user = kwargs.pop("user")
        forms.Form.__init__(self, *args, **kwargs)
        self.secret = auth.get_totp_secret(regenerate=False)
