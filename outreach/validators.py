"""Field validators shared by the models of every app: each rule once, met by every door."""

import datetime
import unicodedata
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# The one plausible range for the dates of outreach work: encounters, outings,
# referrals and follow-ups (and the engagement and consent dates of a person).
# From 2000-01-01: no county's digital records of outreach work are older
# (legacy statistics sheets start later), and the API has refused earlier
# dates from the start. To two years (2 × 366 days) ahead of today: the
# farthest anyone plans an outing or a follow-up, as the planning page has
# always allowed. Anything outside is a typing error in the year (or an
# attack on the date arithmetic), not outreach work. The upper end moves with
# the calendar, so the rule is a validator run by model validation, not a
# CHECK constraint (those must not depend on the day they run).
PLAUSIBLE_FIRST_DAY = datetime.date(2000, 1, 1)
PLAUSIBLE_HORIZON = datetime.timedelta(days=2 * 366)


# The domain's day is the Helsinki day, whatever time zone a request runs in.
DOMAIN_ZONE = ZoneInfo(settings.TIME_ZONE)


def plausible_last_day() -> datetime.date:
    return datetime.datetime.now(DOMAIN_ZONE).date() + PLAUSIBLE_HORIZON


def validate_plausible_date(value: datetime.date | datetime.datetime) -> None:
    """A date (or the Helsinki date of a moment) within the plausible range above."""
    last = plausible_last_day()
    try:
        if isinstance(value, datetime.datetime):
            day = value.astimezone(DOMAIN_ZONE).date() if timezone.is_aware(value) else value.date()
        else:
            day = value
    except OverflowError:
        day = datetime.date.min
    if not PLAUSIBLE_FIRST_DAY <= day <= last:
        raise ValidationError(
            _("Enter a date between %(first)s and %(last)s."),
            code="implausible_date",
            params={"first": PLAUSIBLE_FIRST_DAY.isoformat(), "last": last.isoformat()},
        )


# Birth years before this are typing errors, not people (one after this year
# is refused by validate_not_future_year).
BIRTH_YEAR_MIN = 1900


def validate_plausible_birth_year(value: int | None) -> None:
    """A birth year from BIRTH_YEAR_MIN on: the person check constraint's lower bound, said on the field."""
    if value is not None and value < BIRTH_YEAR_MIN:
        raise ValidationError(_("The birth year is not plausible."), code="min_value")


def validate_not_future_year(value: int) -> None:
    """A year that has begun (a birth year)."""
    this_year = timezone.localdate().year
    if value is not None and value > this_year:
        raise ValidationError(
            _("Ensure this value is less than or equal to %(limit_value)s."),
            code="max_value",
            params={"limit_value": this_year},
        )


@deconstructible
class NoInvisibleCharacters:
    """Refuse Unicode format and control characters in names and aliases.

    Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069), marks
    (U+200E, U+200F, U+061C), zero-width characters (U+200B–U+200D, U+2060,
    U+FEFF) and the rest of category Cf, and control characters (Cc), make
    one name display as another: “Matti” and “Mat\u200btti” look alike but
    are two people in a search, and an override turns text around. Names of
    people met in Finland need none of them.
    """

    message = _("Remove the invisible or text-direction characters (e.g. copied from another program).")
    code = "invisible_characters"

    def __call__(self, value) -> None:
        if any(unicodedata.category(char) in {"Cf", "Cc"} for char in str(value or "")):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other) -> bool:
        return isinstance(other, NoInvisibleCharacters)

    def __hash__(self) -> int:
        return hash(self.code)


no_invisible_characters = NoInvisibleCharacters()
