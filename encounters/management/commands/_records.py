"""What the record import and export commands share: resources, the acting user, error lines."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from encounters.resources import EncounterResource, PersonResource, ReferralResource
from networks.resources import ContactPersonResource, PartnerResource, PartnerServiceResource
from outreach.models import User
from outreach.resources import ROW, FileError, OutingResource, ServiceResource, SiteResource

# Resource names as in the API (`/api/v1/<name>/`).
RESOURCES: dict[str, type[ServiceResource]] = {
    "sites": SiteResource,
    "persons": PersonResource,
    "outings": OutingResource,
    "encounters": EncounterResource,
    "referrals": ReferralResource,
    "partners": PartnerResource,
    "partner_services": PartnerServiceResource,
    "contact_persons": ContactPersonResource,
}


def acting_user(email: str | None) -> User:
    """The user given by e-mail, or the first superuser: whose rights the command uses."""
    if email:
        user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
        if user is None:
            raise CommandError(_("No active user with the e-mail address %(email)s.") % {"email": email})
        return user
    user = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if user is None:
        raise CommandError(_("There is no superuser: give the acting user with --user EMAIL."))
    return user


def error_lines(result, line_of) -> list[tuple[int, str]]:
    """Every problem of an import result as (line, "line N: column: message"), in file order.

    `line_of(row_number)` maps import-export's 1-based data row number to the
    line in the file (the header is line 1).
    """
    lines: list[tuple[int, str]] = []
    for error in result.base_errors:
        if isinstance(error.error, FileError):
            for column, messages in error.error.errors.items():
                for message in messages:
                    lines.append((1, f"line 1: {column}: {message}"))
        else:
            lines.append((0, f"file: {type(error.error).__name__}: {error.error}"))
    for row in result.invalid_rows:
        line = line_of(row.number)
        for column, messages in row.error_dict.items():
            column = ROW if column == "__all__" else column
            for message in messages:
                lines.append((line, f"line {line}: {column}: {message}"))
    for row in result.error_rows:
        line = line_of(row.number)
        for error in row.errors:
            lines.append((line, f"line {line}: {ROW}: {type(error.error).__name__}: {error.error}"))
    lines.sort(key=lambda item: item[0])
    return lines
