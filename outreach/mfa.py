"""Two-factor setup as allauth.mfa does it, with the secret kept for the setup session.

allauth's activation form makes a new secret on every GET of the setup page.
A second load of the page (a reload, a language switch, the browser's own
request for an icon that was once sent there) then replaced the secret the
user had already scanned, and every code from the app was refused. The
secret here stays the same until the activation succeeds (allauth clears it
from the session then), so what is on the screen is what the server checks.
"""

from allauth.mfa.totp.forms import ActivateTOTPForm as AllauthActivateTOTPForm
from allauth.mfa.totp.internal import auth
from django import forms


class ActivateTOTPForm(AllauthActivateTOTPForm):
    def __init__(self, *args, **kwargs) -> None:
        self.user = kwargs.pop("user")
        forms.Form.__init__(self, *args, **kwargs)
        self.secret = auth.get_totp_secret(regenerate=False)
