from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """No public sign-up: administrators create the users."""

    def is_open_for_signup(self, request):
        return False
