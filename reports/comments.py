"""Free-text comments from clients: identifiers masked, link spam recognised.

A client may write their phone number or identity code into a comment
meaning well; it must never leave the system. What looks like a Finnish
personal identity code, a phone number or an e-mail address is replaced by
`[hidden]` when the comment is stored and again wherever it is shown or
exported (so a row written by other means is masked too).
"""

import re

HIDDEN = "[hidden]"

# Finnish personal identity code: DDMMYY, a century sign, three digits and a check character.
_IDENTITY_CODE = r"\b\d{6}\s?[-+A-FU-Y]\s?\d{3}[0-9A-FHJ-NPR-Y]\b"
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
# Finnish and international phone numbers: +358 40 123 4567, 040-1234567, (09) 310 1234; seven digits or more.
_PHONE = r"(?<![\w.])(?:\+|00)?\(?\d[\d\s()-]{5,}\d(?![\w])"
_IDENTIFIERS = re.compile(f"{_IDENTITY_CODE}|{_EMAIL}|{_PHONE}", re.IGNORECASE)
_LINK = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|ru|info|biz|xyz|top)\b", re.IGNORECASE)


def _is_phone_like(text: str) -> bool:
    return sum(character.isdigit() for character in text) >= 7


def mask_identifiers(text: str) -> tuple[str, bool]:
    """The text with identifiers replaced by [hidden], and whether any was found."""
    found = False

    def replace(match: re.Match) -> str:
        nonlocal found
        value = match.group(0)
        if "@" not in value and not re.fullmatch(_IDENTITY_CODE, value, re.IGNORECASE) and not _is_phone_like(value):
            return value
        found = True
        return HIDDEN

    return _IDENTIFIERS.sub(replace, text), found


def masked(text: str) -> str:
    return mask_identifiers(text)[0]


def is_link_spam(text: str) -> bool:
    """A comment carrying two links or more is advertising, not feedback."""
    return len(_LINK.findall(text)) >= 2
