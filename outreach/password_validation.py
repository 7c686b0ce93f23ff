"""Django's password validators, with the message Django's Finnish catalogue leaves untranslated.

Django 5.2's fi catalogue has no translation for the minimum-length error, so
a Finnish user read "This password is too short…" in English. The same
message written here is extracted into our catalogue (LOCALE_PATHS comes
before Django's own), where fi and sv translate it.
"""

from django.contrib.auth import password_validation
from django.utils.translation import ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self):
        return (
            ngettext(
                "This password is too short. It must contain at least %d character.",
                "This password is too short. It must contain at least %d characters.",
                self.min_length,
            )
            % self.min_length
        )
