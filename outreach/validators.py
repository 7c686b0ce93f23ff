"""Field validators shared by the models of every app: each rule once, met by every door."""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
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


def plausible_last_day() -> datetime.date:
    return timezone.localdate() + PLAUSIBLE_HORIZON


def validate_plausible_date(value: datetime.date | datetime.datetime) -> None:
    """A date (or the Helsinki date of a moment) within the plausible range above."""
    last = plausible_last_day()
    try:
        if isinstance(value, datetime.datetime):
            day = timezone.localdate(value) if timezone.is_aware(value) else value.date()
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


def validate_not_future_year(value: int) -> None:
    """A year that has begun (a birth year)."""
    this_year = timezone.localdate().year
    if value is not None and value > this_year:
        raise ValidationError(
            _("Ensure this value is less than or equal to %(limit_value)s."),
            code="max_value",
            params={"limit_value": this_year},
        )
