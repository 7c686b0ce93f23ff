"""Small counts leaving the system are hidden, so that no person can be recognised from a table.

Primary suppression: a count from 1 to `threshold - 1` is shown as `<5`
(for the default threshold of 5); zero stays 0, larger counts stay as they
are. Secondary suppression, as statistics offices do it: where a table shows
the total of a row or a column and exactly one cell of that row or column is
hidden, the hidden value would be the total minus the others; so the next
smallest non-zero cell of that row or column is hidden too. Hiding one cell
can leave another line with a single hidden cell, so the rule is applied
until nothing changes.
"""

from collections.abc import Sequence

from django.conf import settings

Cell = int | float | str | None


def threshold() -> int:
    return int(getattr(settings, "REPORT_SUPPRESSION_THRESHOLD", 5))


def hidden_label(limit: int | None = None) -> str:
    return f"<{threshold() if limit is None else limit}"


def suppress_count(value: int, limit: int | None = None) -> int | str:
    """One count on its own: 1 … limit-1 becomes `<limit`."""
    limit = threshold() if limit is None else limit
    if 0 < value < limit:
        return hidden_label(limit)
    return value


def suppress_table(
    cells: Sequence[Sequence[int]],
    *,
    limit: int | None = None,
    row_totals: bool = False,
    column_totals: bool = False,
) -> list[list[int | str]]:
    """Suppress a grid of counts (rows × columns, without its total cells).

    `row_totals` / `column_totals` say whether the table shows the total of
    each row / each column next to the cells; only then can a hidden cell be
    worked back from its neighbours, and only then is a second cell hidden.
    The totals themselves are suppressed with `suppress_count`.
    """
    limit = threshold() if limit is None else limit
    values = [list(row) for row in cells]
    hidden = [[0 < value < limit for value in row] for row in values]
    lines: list[list[tuple[int, int]]] = []
    if row_totals:
        lines += [[(r, c) for c in range(len(row))] for r, row in enumerate(values)]
    if column_totals and values:
        width = max(len(row) for row in values)
        lines += [[(r, c) for r in range(len(values)) if c < len(values[r])] for c in range(width)]

    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(hidden[r][c] for r, c in line) != 1:
                continue
            candidates = [(values[r][c], r, c) for r, c in line if not hidden[r][c] and values[r][c] > 0]
            if candidates:
                _value, r, c = min(candidates)
                hidden[r][c] = True
                changed = True
    return [
        [hidden_label(limit) if hidden[r][c] else value for c, value in enumerate(row)] for r, row in enumerate(values)
    ]
