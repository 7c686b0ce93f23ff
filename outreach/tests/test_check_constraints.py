"""Check constraints answered in Python answer as the database does.

Model validation checks a `FieldCheckConstraint` without a query when its
condition is plain (`outreach.fields.condition_holds`). For every one of
them in the product, random values of the fields it names (NULLs, the
condition's own bounds and their neighbours included) must get the answer of
Django's own check, the `SELECT` that it replaces. A constraint that Python
does not answer fails here unless it is listed as left to the database.
"""

import datetime
import decimal

import pytest
from django.apps import apps
from django.db import models
from django.db.models import F, Q, Value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outreach.fields import FieldCheckConstraint, NotInPython, condition_holds
from outreach.validators import DOMAIN_ZONE

# Constraints whose conditions Python does not answer: each costs three statements a save.
ANSWERED_BY_THE_DATABASE: set[str] = set()


def field_check_constraints() -> list[tuple[type[models.Model], FieldCheckConstraint]]:
    return [
        (model, constraint)
        for model in apps.get_models()
        for constraint in model._meta.constraints
        if isinstance(constraint, FieldCheckConstraint)
    ]


def lookups_in(condition: Q):
    for child in condition.children:
        if isinstance(child, Q):
            yield from lookups_in(child)
        else:
            yield child


def names_in(condition: Q) -> set[str]:
    names = set()
    for path, rhs in lookups_in(condition):
        names.add(path.split("__")[0])
        for operand in rhs if isinstance(rhs, list | tuple) else [rhs]:
            if isinstance(operand, F):
                names.add(operand.name)
    return names


def literals_in(condition: Q) -> list:
    literals = []
    for _path, rhs in lookups_in(condition):
        for operand in rhs if isinstance(rhs, list | tuple) else [rhs]:
            if not isinstance(operand, F) and operand is not None:
                literals.append(operand)
    return literals


DAY = datetime.date(2026, 3, 28)


def values_of(field: models.Field, literals: list) -> st.SearchStrategy:
    """Values close together (so that comparisons of two fields go both ways), and the condition's bounds."""
    numbers = [value for value in literals if isinstance(value, int | decimal.Decimal) and not isinstance(value, bool)]
    near_bounds = sorted({bound + step for bound in numbers for step in (-1, 0, 1)})
    base: st.SearchStrategy
    if isinstance(field, models.BooleanField):
        base = st.booleans()
    elif isinstance(field, models.ForeignKey | models.AutoField):
        base = st.sampled_from([1, 2, 3])
    elif isinstance(field, models.DecimalField):
        places = decimal.Decimal(1).scaleb(-field.decimal_places)
        base = st.sampled_from([decimal.Decimal(value) for value in near_bounds] or [decimal.Decimal(0)]) | st.decimals(
            -200, 200, places=field.decimal_places, allow_nan=False, allow_infinity=False
        ).map(lambda value: value.quantize(places))
    elif isinstance(field, models.IntegerField):
        base = st.sampled_from(near_bounds or [0]) | st.integers(-2, 3000)
    elif isinstance(field, models.CharField | models.TextField):
        texts = [value for value in literals if isinstance(value, str)]
        choices = [str(value) for value, _label in field.flatchoices]
        base = st.sampled_from(sorted({"", "x", *texts, *choices}))
    elif isinstance(field, models.DateTimeField):
        base = st.integers(0, 4).map(
            lambda hours: datetime.datetime(2026, 3, 28, 22, tzinfo=DOMAIN_ZONE) + datetime.timedelta(hours=hours)
        )
    elif isinstance(field, models.DateField):
        base = st.integers(0, 3).map(lambda days: DAY + datetime.timedelta(days=days))
    elif isinstance(field, models.TimeField):
        base = st.sampled_from([datetime.time(9), datetime.time(9, 30), datetime.time(10)])
    else:
        raise AssertionError(f"no values for {field!r}: add them here")
    return st.none() | base if field.null or field.primary_key else base


CONSTRAINTS = field_check_constraints()


def test_the_product_has_check_constraints_to_compare():
    assert len(CONSTRAINTS) > 20
    assert {"encounter_anonymous_has_no_person", "outing_ends_after_start", "site_coordinates_plausible"} <= {
        constraint.name for _model, constraint in CONSTRAINTS
    }


@pytest.mark.parametrize(("model", "constraint"), CONSTRAINTS, ids=[constraint.name for _m, constraint in CONSTRAINTS])
def test_python_answers_as_the_database(db, model, constraint):
    fields = {
        name: model._meta.pk if name == "pk" else model._meta.get_field(name) for name in names_in(constraint.condition)
    }
    literals = literals_in(constraint.condition)

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.fixed_dictionaries({name: values_of(field, literals) for name, field in fields.items()}))
    def agree(values):
        instance = model()
        for name, value in values.items():
            setattr(instance, fields[name].attname, value)
        against = instance._get_field_expression_map(meta=model._meta)
        try:
            in_python = condition_holds(constraint.condition, against)
        except NotInPython:
            assert constraint.name in ANSWERED_BY_THE_DATABASE, f"{constraint.name} is not answered in Python"
            return
        assert in_python == Q(constraint.condition).check(against), values

    agree()


@pytest.mark.parametrize(
    ("condition", "values", "holds"),
    [
        # A comparison with NULL is unknown; an unknown CHECK passes, and so does NOT unknown.
        (Q(a__gt=F("b")), {"a": 1, "b": None}, True),
        (~Q(a__gt=F("b")), {"a": 1, "b": None}, True),
        (Q(a__gt=F("b")) & Q(a=2), {"a": 1, "b": None}, False),
        (Q(a__gt=F("b")) | Q(a=2), {"a": 1, "b": None}, True),
        (Q(a__isnull=True), {"a": None}, True),
        (Q(a__isnull=False), {"a": None}, False),
        (Q(a=None), {"a": 1}, False),
        (Q(a__in=[1, 2]), {"a": 3}, False),
        (Q(a__in=[1, 2]), {"a": None}, True),
        (Q(a__range=(1, 3)), {"a": 4}, False),
        (Q(a__range=(1, 3)), {"a": 3}, True),
        (Q(a__lte=3), {"a": 4}, False),
        (Q(a__gte=3), {"a": 2}, False),
        (Q(a__lt=3), {"a": 3}, False),
    ],
)
def test_sql_logic_is_kept(db, condition, values, holds):
    against = {name: Value(value, models.IntegerField(null=True)) for name, value in values.items()}
    assert condition_holds(condition, against) is holds
    assert Q(condition).check(against) is holds


@pytest.mark.parametrize(
    "condition",
    [
        Q(a__icontains="x"),  # a lookup that is not answered
        Q(a__year=2026),  # a transform
        Q(a__gt=F("b") + 1),  # an expression
        Q(a__gt="x"),  # text ordering belongs to the collation
        Q(a__in=[]),
        Q(missing=1),  # a field left out of validation
    ],
)
def test_other_conditions_are_left_to_django(condition):
    against = {"a": Value("y", models.CharField()), "b": Value("z", models.CharField())}
    with pytest.raises(NotInPython):
        condition_holds(condition, against)
