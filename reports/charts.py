"""Charts drawn on the server as SVG: no script, no third-party assets, the same picture on a page and in a PDF.

Bars are horizontal, one group per table row, with the row's label above its
bars and every value written at the end of its bar, so a chart can be read
without telling colours apart; a comparison series is hatched, not only
differently coloured. The table beside the chart holds the same figures.
"""

import itertools

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Drawn in a 320-unit wide box: on a 360 px phone one unit is about one pixel, so the 14-unit texts stay
# readable; wider screens scale it up to the CSS max-width.
WIDTH = 320
LABEL_HEIGHT = 20
BAR_HEIGHT = 15
GAP = 10
VALUE_SPACE = 56
LEGEND_HEIGHT = 22
FILLS = ["#003479", "url(#{id}-hatch)"]

_ids = itertools.count(1)


def _number(value) -> float | None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    return float(value)


def _text(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return number_format(value, 2 if value % 1 else 0, use_l10n=True)
    return str(value)


def bar_chart(title, series_labels: list, rows: list[tuple[object, list]]) -> SafeString:
    """An SVG bar chart. `rows` are (label, [value per series]); a value may be a number, None or a string
    such as "<5" (drawn as no bar, with the text written)."""
    chart_id = f"chart{next(_ids)}"
    numbers = [_number(value) for _label, values in rows for value in values]
    top = max([number for number in numbers if number is not None] + [0.0])
    series = max((len(values) for _label, values in rows), default=1)
    group_height = LABEL_HEIGHT + series * BAR_HEIGHT + GAP
    legend = LEGEND_HEIGHT if series > 1 else 0
    height = legend + group_height * len(rows) + 4
    scale = (WIDTH - VALUE_SPACE) / top if top else 0
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="{chart_id}-title">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        "<defs>",
        f'<pattern id="{chart_id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        '<rect width="3" height="6" fill="#e97025"/></pattern>',
        "</defs>",
    ]
    if series > 1:
        x = 0
        for index, label in enumerate(series_labels[:series]):
            fill = FILLS[index % 2].format(id=chart_id)
            parts.append(
                f'<rect x="{x}" y="4" width="14" height="12" fill="{fill}" stroke="#222222" stroke-width="0.5"/>'
                f'<text x="{x + 18}" y="14" font-size="13">{escape(str(label))}</text>'
            )
            x += 28 + 7 * len(str(label))  # roughly the label's width
    y = legend
    for label, values in rows:
        parts.append(f'<text x="0" y="{y + 15}" font-size="14">{escape(str(label))}</text>')
        bar_y = y + LABEL_HEIGHT
        for index, value in enumerate(values):
            number = _number(value)
            length = max(number * scale, 0) if number else 0
            fill = FILLS[index % 2].format(id=chart_id)
            if length:
                parts.append(
                    f'<rect x="0" y="{bar_y}" width="{length:.1f}" height="{BAR_HEIGHT - 2}" fill="{fill}" '
                    'stroke="#222222" stroke-width="0.5"/>'
                )
            parts.append(
                f'<text x="{length + 4:.1f}" y="{bar_y + BAR_HEIGHT - 4}" font-size="13">{escape(_text(value))}</text>'
            )
            bar_y += BAR_HEIGHT
        y += group_height
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped


def table_chart(table) -> SafeString:
    """The chart of a report table (see `tables.Table.chart`), or nothing when it has none."""
    if not table.chart or not table.rows:
        return mark_safe("")
    labels = [table.columns[index].label for index in table.chart]
    rows = [(row.label, [row.values[index] for index in table.chart]) for row in table.rows]
    return bar_chart(table.title, labels, rows)
