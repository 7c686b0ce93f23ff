"""Finnish personal identity code (henkilötunnus) validation."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Century signs; the extra signs for 1900 and 2000 came into use in 2023.
CENTURY_SIGNS = {
    "+": 1800,
    "-": 1900,
    "Y": 1900,
    "X": 1900,
    "W": 1900,
    "V": 1900,
    "U": 1900,
    "A": 2000,
    "B": 2000,
    "C": 2000,
    "D": 2000,
    "E": 2000,
    "F": 2000,
}
CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_PATTERN = re.compile(r"^(\d{2})(\d{2})(\d{2})([-+YXWVUABCDEF])(\d{3})([0-9A-Y])$")


def identity_code_birth_date(code: str) -> datetime.date | None:
    """The birth date the code encodes, or None when the code is not valid."""
    match = _PATTERN.match(code or "")
    if not match:
        return None
    day, month, year, sign, individual, check = match.groups()
    try:
        born = datetime.date(CENTURY_SIGNS[sign] + int(year), int(month), int(day))
    except ValueError:
        return None
    if int(individual) < 2:
        return None
    if CHECK_CHARACTERS[int(day + month + year + individual) % 31] != check:
        return None
    return born


def validate_identity_code(value: str) -> None:
    code = (value or "").strip().upper()
    if not _PATTERN.match(code):
        raise ValidationError(
            _("Enter a personal identity code in the form DDMMYYCZZZQ, e.g. 131052-308T."),
            code="identity_code_format",
        )
    if identity_code_birth_date(code) is None:
        raise ValidationError(
            _("This personal identity code is not valid: its date or check character is wrong."),
            code="identity_code_checksum",
        )
