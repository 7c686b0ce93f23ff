"""A set of vocabulary codes stored as bits of one integer column.

Needs, actions and the services a partner offers are multi-selects over a
fixed vocabulary. Reports count them over millions of encounters on both
SQLite and PostgreSQL; one integer column keeps the rows narrow, bulk loads
simple and lets `needs__has="housing"` count with a bitwise AND in SQL,
where JSON containment is not portable and a join table would double the
rows. In Python the value is a list of codes in vocabulary order.
"""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core import exceptions
from django.db import models
from django.db.models import Lookup
from django.db.models.expressions import Combinable
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class CodeSetField(models.BigIntegerField):
    # For django-stubs: the value on the model is a list of codes (any iterable
    # of codes is accepted), not the integer in the column. Overriding the
    # integer types is the point, as django-stubs does for its own fields.
    _pyi_private_set_type: Iterable[str] | Combinable  # type: ignore[assignment]
    _pyi_private_get_type: list[str]  # type: ignore[assignment]

    description = _("Set of vocabulary codes")

    def __init__(self, *args, choices_enum=None, **kwargs):
        if choices_enum is None:
            raise TypeError("CodeSetField needs choices_enum")
        self.choices_enum = choices_enum
        self.codes: list[str] = [str(value) for value in choices_enum.values]
        kwargs.setdefault("default", list)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["choices_enum"] = self.choices_enum
        if kwargs.get("default") is list:
            del kwargs["default"]
        if kwargs.get("blank") is True:
            del kwargs["blank"]
        return name, path, args, kwargs

    @cached_property
    def validators(self):
        # Not the integer range validators of BigIntegerField: the Python
        # value is a list of codes, checked in to_python().
        return [*self.default_validators, *self._validators]  # type: ignore[attr-defined]  # not in django-stubs

    # Conversions -------------------------------------------------------

    def bit(self, code: str) -> int:
        try:
            return 1 << self.codes.index(code)
        except ValueError:
            raise exceptions.ValidationError(
                _("“%(code)s” is not a valid choice."), code="invalid_choice", params={"code": code}
            ) from None

    def to_mask(self, codes: Iterable[str]) -> int:
        mask = 0
        for code in codes:
            mask |= self.bit(code)
        return mask

    def to_codes(self, mask: int) -> list[str]:
        return [code for index, code in enumerate(self.codes) if mask & (1 << index)]

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return self.to_codes(int(value))

    def to_python(self, value):
        if value is None:
            return value
        if isinstance(value, int):
            return self.to_codes(value)
        if isinstance(value, str):
            value = [part.strip() for part in value.split(";") if part.strip()]
        codes = list(dict.fromkeys(str(code) for code in value))
        for code in codes:
            self.bit(code)
        # Canonical order: vocabulary order, so equal sets compare equal.
        return [code for code in self.codes if code in codes]

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, int):
            return value
        return self.to_mask(self.to_python(value))

    def value_to_string(self, obj):
        return ";".join(self.value_from_object(obj) or [])

    def validate(self, value, model_instance):
        # The parent validates against `choices`, which a set does not have.
        if not self.blank and not value:
            raise exceptions.ValidationError(self.error_messages["blank"], code="blank")

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field:
        defaults: dict[str, Any] = {
            "choices": self.choices_enum.choices,
            "required": not self.blank,
            "label": self.verbose_name,
            "help_text": self.help_text,
            "widget": forms.CheckboxSelectMultiple,
        }
        defaults.update(kwargs)
        form_class = form_class or forms.TypedMultipleChoiceField
        for key in ("min_value", "max_value", "step_size", "max_length"):
            defaults.pop(key, None)
        return form_class(**defaults)


@CodeSetField.register_lookup
class HasCode(Lookup):
    """`needs__has="housing"`: the set contains the code."""

    lookup_name = "has"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        bit = self.lhs.output_field.bit(self.rhs)
        return f"({lhs} & %s) = %s", [*lhs_params, bit, bit]


class FieldCheckConstraint(models.CheckConstraint):
    """A CheckConstraint whose validation error is reported on one field.

    Model validation reports plain constraints under `__all__`; forms and the
    API must name the field the user has to correct.
    """

    def __init__(self, *args, field: str, **kwargs):
        self.field = field
        super().__init__(*args, **kwargs)

    def validate(self, model, instance, exclude=None, using=None):
        try:
            super().validate(model, instance, exclude=exclude, using=using)  # type: ignore[misc]  # not in django-stubs
        except exceptions.ValidationError as error:
            raise exceptions.ValidationError({self.field: error.error_list}) from None

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        kwargs["field"] = self.field
        return path, args, kwargs

    def __eq__(self, other):
        return super().__eq__(other) and getattr(other, "field", None) == self.field
