"""Field validators of the reports app."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

SURVEY_LANGUAGES = ("fi", "sv", "en")
SURVEY_MAX_QUESTIONS = 50  # questions in one survey, through the API and the survey page alike


def validate_translations(value: object) -> None:
    """A text in Finnish, Swedish and English: {"fi": …, "sv": …, "en": …}, none of them empty."""
    if not isinstance(value, dict):
        raise ValidationError(_("Give the text in Finnish, Swedish and English."), code="translations")
    missing = [code for code in SURVEY_LANGUAGES if not isinstance(value.get(code), str) or not value[code].strip()]
    if missing:
        raise ValidationError(
            _("Give the text in Finnish, Swedish and English (missing: %(languages)s)."),
            code="translations",
            params={"languages": ", ".join(missing)},
        )
    if set(value) - set(SURVEY_LANGUAGES):
        raise ValidationError(_("Only fi, sv and en texts are allowed."), code="translations")
    if any(len(value[code]) > 500 for code in SURVEY_LANGUAGES):
        raise ValidationError(_("A text is at most 500 characters."), code="translations")
