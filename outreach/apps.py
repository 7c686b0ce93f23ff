from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutreachConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "outreach"
    # The admin's section heading.
    verbose_name = _("Users, teams and outings")

    def ready(self):
        # Registers the `check --deploy` check of the production settings.
        # allauth's MFA adapter has no method that runs when an authenticator
        # is removed (can_delete_authenticator only asks beforehand), so its
        # own `authenticator_removed` signal is the hook: the API keys of a
        # user who turns TOTP off are revoked, as the keys were made with it.
        from allauth.mfa.signals import authenticator_removed

        import config.production  # noqa: F401

        authenticator_removed.connect(_revoke_keys_on_authenticator_removed, dispatch_uid="outreach_revoke_keys")

        # Session bookkeeping, not domain logic: every sign-in (allauth's, and
        # Django's own login() under it) marks when the session began, for
        # the absolute timeout, before the session is first saved.
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(_mark_session_start, dispatch_uid="outreach_session_start")


def _mark_session_start(sender, request, user, **kwargs):
    from .middleware import SessionTimeoutMiddleware

    if request is not None and hasattr(request, "session"):
        SessionTimeoutMiddleware.start(request)


def _revoke_keys_on_authenticator_removed(sender, request, user, authenticator, **kwargs):
    from allauth.mfa.models import Authenticator

    from .services import api_tokens_revoke_all

    if authenticator.type == Authenticator.Type.TOTP:
        api_tokens_revoke_all(actor=user, user=authenticator.user)
