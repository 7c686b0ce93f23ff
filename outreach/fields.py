"""A set of vocabulary codes stored as bits of one integer column.

Needs, actions and the services a partner offers are multi-selects over a
fixed vocabulary. Reports count them over millions of encounters on both
SQLite and PostgreSQL; one integer column keeps the rows narrow, bulk loads
simple and lets `needs__has="housing"` count with a bitwise AND in SQL,
where JSON containment is not portable and a join table would double the
rows. In Python the value is a list of codes in vocabulary order.

Also here: `FieldCheckConstraint`, the check constraint that names the
field to correct, and answers plain conditions in Python.
"""

import datetime
import decimal
import operator
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.core import exceptions
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import F, Lookup, Q, Value
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

    Django checks a constraint with a `SELECT` in a savepoint of its own
    (three statements on every save); a condition of plain comparisons of
    the record's own fields is answered in Python instead, the way the
    database would answer it (`condition_holds`). Any other condition goes
    to Django's check. Either way the message is the constraint's own, and
    the database's CHECK still guards the INSERT.
    """

    def __init__(self, *args, field: str, **kwargs):
        self.field = field
        super().__init__(*args, **kwargs)

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        try:
            self._validate(model, instance, exclude, using)
        except exceptions.ValidationError as error:
            raise exceptions.ValidationError({self.field: error.error_list}) from None

    def _validate(self, model, instance, exclude, using):
        # The values Django's own check would compare (CheckConstraint.validate).
        against = instance._get_field_expression_map(meta=model._meta, exclude=exclude)
        try:
            holds = condition_holds(self.condition, against, using=using)
        except NotInPython:
            super().validate(model, instance, exclude=exclude, using=using)  # type: ignore[misc]  # not in django-stubs
            return
        if not holds:
            raise exceptions.ValidationError(self.get_violation_error_message(), code=self.violation_error_code)

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        kwargs["field"] = self.field
        return path, args, kwargs

    def __eq__(self, other):
        return super().__eq__(other) and getattr(other, "field", None) == self.field


# Check constraints answered in Python --------------------------------------


class NotInPython(Exception):
    """A condition, or a value in it, that Python would not answer exactly as the database does."""


def condition_holds(condition: object, values: dict[str, Any], using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether a record passes a CHECK `condition`, as Django's `Q.check` would answer it, without a query.

    `values` is the record's `Model._get_field_expression_map()`, which Django
    checks against. SQL's three-valued logic is kept: a comparison with NULL
    is unknown, and a CHECK whose condition is unknown passes. Only a `Q`
    tree of `exact`, `in`, `isnull`, `gt(e)`, `lt(e)` and `range` lookups on
    the record's own fields, against literals or `F()` of the same record, is
    answered; text is compared for equality only (ordering is the database's
    collation). Anything else raises `NotInPython`.
    """
    # Q.check wraps the condition in COALESCE(condition, TRUE) on the backends
    # that compare boolean expressions (SQLite, PostgreSQL); on the others an
    # unknown answer fails, and Django's own check is kept.
    if not connections[using].features.supports_comparing_boolean_expr:
        raise NotInPython
    return _truth(condition, values) is not False


def _truth(node: object, values: dict[str, Any]) -> bool | None:
    """True, False or None (SQL's unknown)."""
    if not isinstance(node, Q) or not node.children or node.connector not in (Q.AND, Q.OR):
        raise NotInPython
    # Every child is evaluated, so that an unsupported one anywhere falls back.
    answers = [_truth(child, values) if isinstance(child, Q) else _lookup(child, values) for child in node.children]
    if node.connector == Q.AND:
        answer = False if False in answers else None if None in answers else True
    else:
        answer = True if True in answers else None if None in answers else False
    if node.negated:
        return None if answer is None else not answer
    return answer


_ORDERINGS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def _lookup(child: object, values: dict[str, Any]) -> bool | None:
    if not isinstance(child, tuple) or len(child) != 2:
        raise NotInPython
    path, rhs = child
    name, _sep, lookup = path.partition("__")
    lookup = lookup or "exact"
    value, field = _own_value(name, values)
    if lookup == "isnull":
        if not isinstance(rhs, bool):
            raise NotInPython
        return (value is None) == rhs
    if lookup == "exact":
        if rhs is None:  # Django reads `field=None` as `field__isnull=True`
            return value is None
        return _compare(operator.eq, value, _operand(rhs, field, values))
    if lookup in _ORDERINGS:
        return _compare(_ORDERINGS[lookup], value, _operand(rhs, field, values), ordered=True)
    if lookup == "in":
        if not isinstance(rhs, list | tuple | set | frozenset) or not rhs or None in rhs:
            raise NotInPython
        answers = [_compare(operator.eq, value, _operand(item, field, values)) for item in rhs]
        return True if True in answers else None if None in answers else False
    if lookup == "range":
        if not isinstance(rhs, list | tuple) or len(rhs) != 2:
            raise NotInPython
        low = _compare(operator.ge, value, _operand(rhs[0], field, values), ordered=True)
        high = _compare(operator.le, value, _operand(rhs[1], field, values), ordered=True)
        return False if False in (low, high) else None if None in (low, high) else True
    # iexact, contains, a transform (`__year`), a join (`person__kind`)...
    raise NotInPython


def _own_value(name: str, values: dict[str, Any]) -> tuple[Any, models.Field]:
    """The record's value of a field named in the condition, and the field, as Django's check would use it."""
    expression = values.get(name)
    # Not there: excluded from validation, which Django's check skips (FieldError) at no cost.
    # Not a plain Value: an F() or database default assigned to the field, or a generated field.
    if type(expression) is not Value or not isinstance(expression.output_field, models.Field):
        raise NotInPython
    field = expression.output_field
    return _plain(expression.value, field), field


def _operand(rhs: object, field: models.Field, values: dict[str, Any]) -> Any:
    if type(rhs) is F:
        return _own_value(rhs.name, values)[0]
    if hasattr(rhs, "resolve_expression"):
        raise NotInPython
    # The database compares a literal as the field's value (get_prep_value).
    return _plain(rhs, field)


_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    ((bool, int, float, decimal.Decimal), "number"),
    (str, "text"),
    (datetime.datetime, "datetime"),  # before date, its base class
    (datetime.date, "date"),
    (datetime.time, "time"),
    (uuid.UUID, "uuid"),
)


def _kind(value: object) -> str:
    for types, kind in _KINDS:
        if isinstance(value, types):
            return kind
    raise NotInPython


def _plain(value: object, field: models.Field) -> object:
    """`value` when it is already what the field stores (a value the database compares as Python does)."""
    if value is None:
        return None
    kind = _kind(value)
    try:
        stored = field.to_python(value)
    except (exceptions.ValidationError, TypeError, ValueError):
        raise NotInPython from None
    if stored is None or _kind(stored) != kind or stored != value:  # converted, or NaN
        raise NotInPython
    return value


def _compare(compare: Callable[[Any, Any], bool], left: object, right: object, ordered: bool = False) -> bool | None:
    if left is None or right is None:
        return None
    kind = _kind(left)
    if _kind(right) != kind or (ordered and kind in ("text", "uuid")):
        raise NotInPython
    try:
        return bool(compare(left, right))
    except TypeError:  # an aware and a naive datetime
        raise NotInPython from None
