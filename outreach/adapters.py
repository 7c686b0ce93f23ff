"""How allauth signs people in here: no public sign-up, audited sign-ins."""

import logging
import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from django.core.exceptions import ValidationError
from django.urls import reverse

from outreach.services import api_tokens_revoke_all, user_record_login

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Administrators create the users; a new user sets a password from
        # the invitation link (outreach.services.user_create).
        return False

    def login(self, request, user):
        # allauth calls this once every stage has passed, the TOTP step
        # included, so the audit entry marks a sign-in that really happened.
        super().login(request, user)
        user_record_login(user=user)

    def set_password(self, user, password):
        # allauth sets every new password through here: the change form, the
        # reset link and the invitation link. A key made under the old
        # password must not outlive it.
        super().set_password(user, password)
        api_tokens_revoke_all(actor=user, user=user)

    def pre_authenticate(self, request, **credentials):
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            # Too many failed attempts for this e-mail address or from this
            # IP address. Neither is logged: both are personal data.
            logger.warning("Sign-in refused: too many failed attempts")
            raise

    def authentication_failed(self, request, **credentials):
        logger.warning("Sign-in failed: wrong e-mail address or password")
        super().authentication_failed(request, **credentials)

    def get_login_redirect_url(self, request):
        # A coordinator or admin without a second factor goes straight to
        # setting one up (outreach.middleware would send them there anyway).
        from outreach.middleware import needs_mfa_setup

        if needs_mfa_setup(request.user):
            return reverse("mfa_activate_totp")
        return super().get_login_redirect_url(request)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        # allauth asks for the password again before any change to the second
        # factors. Right after signing in with it, a coordinator or admin who
        # had none yet and must set one up was asked for the same password
        # twice in a row; that fresh sign-in counts as the confirmation for
        # the first setup (and for the recovery codes it shows at the end).
        if app == "allauth.mfa" and _in_first_mfa_setup(context.request):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)


def _in_first_mfa_setup(request) -> bool:
    """Signed in with the password moments ago, without a second factor, by a user whose role needs one."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.requires_mfa:
        return False
    records = get_authentication_records(request, user)
    if any(record.get("method") == "mfa" for record in records):
        return False
    passwords = [record for record in records if record.get("method") == "password"]
    return bool(passwords) and time.time() - passwords[-1]["at"] < account_settings.REAUTHENTICATION_TIMEOUT
