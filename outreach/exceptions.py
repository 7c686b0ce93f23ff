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


class StaleVersion(Exception):
    """A change based on a version of a record that someone has changed since: nothing was changed.

    `changes` says what was changed meanwhile: (field name, its label, its
    value now), from the record's change history. The API answers 412, the
    pages show the changes beside the form so that nothing is overwritten
    unseen.
    """

    def __init__(self, *, current_version: int, changes: list[tuple[str, str, str]]):
        self.current_version = current_version
        self.changes = changes
        super().__init__(f"stale version; now {current_version}")

    @property
    def message(self) -> str:
        return str(_("Someone changed this record while you were editing it; nothing was saved."))


class LinkUnusable(Exception):
    """A one-time link that cannot be used: `unknown` (never made, or forged), `used` or `expired`.

    Nothing was changed. A page answers 404 for an unknown link and 410 for
    one used or expired, with a page that says so.
    """

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)
