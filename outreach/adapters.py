"""How allauth signs people in here: no public sign-up, audited sign-ins."""

import logging

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError

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
