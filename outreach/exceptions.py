"""Exceptions the services raise besides Django's ValidationError and PermissionDenied."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class Conflict(Exception):
    """A create repeats a `client_uuid` already used for other content, or for a record the caller may not see.

    Nothing was changed. Each door says it its own way: the API answers 409,
    the field page shows its message, an import reports the row
    (`as_validation_error`).
    """

    default_message = _("This client_uuid was used already for another record; nothing was changed.")

    def __init__(self, message=None):
        self.message = message if message is not None else self.default_message
        super().__init__(self.message)

    def as_validation_error(self, field: str = "client_uuid") -> ValidationError:
        """The conflict as an error on the field that caused it, e.g. for an import's row errors."""
        return ValidationError({field: [self.message]})
