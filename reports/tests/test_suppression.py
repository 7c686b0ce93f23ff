"""Suppression of small counts (reports.suppression): primary, secondary, and the threshold setting."""

import pytest

from reports.suppression import suppress_count, suppress_table


def test_small_counts_are_hidden_and_zero_stays():
    assert [suppress_count(n) for n in (0, 1, 4, 5, 120)] == [0, "<5", "<5", 5, 120]


def test_the_threshold_is_a_setting(settings):
    settings.REPORTS_SUPPRESSION_THRESHOLD = 10
    assert [suppress_count(n) for n in (0, 9, 10)] == [0, "<10", 10]
    assert suppress_table([[9], [12]], column_totals=True) == [["<10"], ["x"]]


def test_without_totals_only_small_cells_are_hidden():
    assert suppress_table([[3], [12], [40]]) == [["<5"], [12], [40]]


def test_one_hidden_cell_beside_a_total_hides_the_next_smallest_non_zero_cell():
    # Total 55 shown: 55 - 12 - 40 would give the 3 back, so the 12 goes too.
    assert suppress_table([[3], [12], [0], [40]], column_totals=True) == [["<5"], ["x"], [0], [40]]


def test_two_hidden_cells_in_a_line_need_nothing_more():
    assert suppress_table([[3], [2], [40]], column_totals=True) == [["<5"], ["<5"], [40]]


def test_a_lone_hidden_cell_beside_zeros_hides_nothing_else():
    # The total equals the hidden count and is itself suppressed.
    assert suppress_table([[3], [0], [0]], column_totals=True) == [["<5"], [0], [0]]


def test_secondary_suppression_cascades_through_rows_and_columns():
    # Rows are looked at first. Row 0 has one small cell (2): its next
    # smallest, 30, goes. Column 0 then has one hidden cell: the 7 goes. That
    # leaves row 1 with one hidden cell, so its next smallest (9) goes; column
    # 1 now has two (30 and 9), and every line is safe.
    cells = [[2, 30, 50], [7, 9, 60], [40, 20, 70]]
    assert suppress_table(cells, row_totals=True, column_totals=True) == [
        ["<5", "x", 50],
        ["x", "x", 60],
        [40, 20, 70],
    ]
    # Every row and column with a hidden cell now has at least two.
    result = suppress_table(cells, row_totals=True, column_totals=True)
    lines = result + [list(column) for column in zip(*result, strict=True)]
    assert all(sum(isinstance(cell, str) for cell in line) != 1 for line in lines)


@pytest.mark.parametrize(("row_totals", "column_totals"), [(True, False), (False, True)])
def test_only_the_lines_with_a_total_are_protected(row_totals, column_totals):
    cells = [[3, 10], [10, 10]]
    result = suppress_table(cells, row_totals=row_totals, column_totals=column_totals)
    assert result[0][0] == "<5"
    assert (result[0][1] == "x") is row_totals
    assert (result[1][0] == "x") is column_totals
