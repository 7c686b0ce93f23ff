"""Small counts leaving the system are hidden, so that no person can be recognised from a table.

Primary suppression: a count from 1 to `threshold - 1` is shown as `<5`
(for the default threshold of 5); zero stays 0, larger counts stay as they
are. Secondary suppression, as statistics offices do it: where a table shows
the total of a row or a column and exactly one cell of that row or column is
hidden, the hidden value would be the total minus the others; so the next
smallest non-zero cell of that row or column is hidden too, shown as `x`
(it is not small, so it does not claim to be). Hiding one cell
can leave another line with a single hidden cell, so the rule is applied
until nothing changes.
"""

from collections.abc import Sequence

from .selectors import suppress_count as _suppress_one
from .selectors import suppression_threshold

SECONDARY = "x"


def hidden_label(limit: int) -> str:
    return str(_suppress_one(1, limit))


def suppress_count(value: int, limit: int | None = None) -> int | str:
    """One count on its own: 1 … limit-1 becomes `<limit` (the threshold is a setting)."""
    return _suppress_one(value, suppression_threshold() if limit is None else limit)


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
    limit = suppression_threshold() if limit is None else limit
    values = [list(row) for row in cells]
    small = [[0 < value < limit for value in row] for row in values]
    hidden = [list(row) for row in small]
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
    label = hidden_label(limit)
    return [
        [label if small[r][c] else SECONDARY if hidden[r][c] else value for c, value in enumerate(row)]
        for r, row in enumerate(values)
    ]
