"""The compare page's CSV download: no cell a spreadsheet would run as a formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from dashboard.views.compare import _csv


@pytest.mark.parametrize(
    "provider",
    [
        '=HYPERLINK("http://x.example","click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_a_cell_that_starts_a_formula_is_quoted_as_text(provider):
    frame = pd.DataFrame({"Provider": [provider, "Coursera"], "Courses": [3, 4]})
    rows = list(csv.reader(io.StringIO(_csv(frame), newline="")))
    assert rows[1] == ["'" + provider, "3"]
    assert rows[2] == ["Coursera", "4"]  # other text and numbers as they are


def test_a_line_break_inside_a_cell_cannot_start_a_row():
    frame = pd.DataFrame({"Provider": ["Acme\r=1+1", "Acme\n@SUM(A1)"], "Courses": [1, 2]})
    text = _csv(frame)
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["Provider", "Courses"],
        ["Acme\r=1+1", "1"],
        ["Acme\n@SUM(A1)", "2"],
    ]
    assert '"Acme\r=1+1"' in text  # quoted, so no reader takes the carriage return for a new row
