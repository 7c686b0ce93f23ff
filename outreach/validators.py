"""Field validators shared by the apps (the ground floor: outreach imports none of the others)."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _


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
