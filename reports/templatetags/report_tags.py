"""Template helpers for the report pages: charts and figures."""

from django import template
from django.utils.formats import number_format

from reports import charts

register = template.Library()


@register.simple_tag
def chart(table):
    return charts.table_chart(table)


@register.simple_tag
def trend_chart(title, label, rows):
    return charts.bar_chart(title, [label], rows)


@register.filter
def figure(value, kind=""):
    """A figure as people read it: "–" for none, two decimals for ratios and hours, a hidden count as is."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if kind in ("ratio", "hours") or isinstance(value, float):
        return number_format(value, 2, use_l10n=True)
    return number_format(value, use_l10n=True, force_grouping=True)


@register.simple_tag
def cell(table, row, index):
    """The value of a row's column, formatted for its kind."""
    return figure(row.values[index], table.kind(row, index))
