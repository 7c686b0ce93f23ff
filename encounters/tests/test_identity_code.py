import pytest
from django.core.exceptions import ValidationError

from encounters.validators import identity_code_birth_date, validate_identity_code


@pytest.mark.parametrize(
    ("code", "year"),
    [
        ("131052-308T", 1952),  # the example of the Digital and Population Data Services Agency
        ("131052Y308T", 1952),
        ("131052X308T", 1952),
        ("131052W308T", 1952),
        ("131052V308T", 1952),
        ("131052U308T", 1952),
        ("010100A002H", 2000),
        ("010100B002H", 2000),
        ("010100C002H", 2000),
        ("010100D002H", 2000),
        ("010100E002H", 2000),
        ("010100F002H", 2000),
        ("010195+0021", 1895),
        # The check character ignores the century sign: the same digits are
        # a valid code for 2052.
        ("131052A308T", 2052),
    ],
)
def test_valid_codes_with_every_century_sign(code, year):
    validate_identity_code(code)
    born = identity_code_birth_date(code)
    assert born is not None
    assert born.year == year


@pytest.mark.parametrize(
    "code",
    [
        "131052-308U",  # wrong check character
        "311352-308T",  # no 13th month
        "300252-3081",  # no 30 February
        "131052-001T",  # individual numbers start at 002
        "131052G308T",  # G is no century sign
        "131052-308",  # too short
        "131052 308T",
        "",
    ],
)
def test_invalid_codes(code):
    with pytest.raises(ValidationError):
        validate_identity_code(code)


def test_lowercase_and_whitespace_are_tolerated():
    validate_identity_code(" 131052-308t ")
