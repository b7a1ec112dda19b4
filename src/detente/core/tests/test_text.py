from __future__ import annotations

import pytest

from detente.core.text import spreadsheet_safe


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("CVE-2021-44228", "CVE-2021-44228"),
        (42, 42),
        (None, None),
    ],
)
def test_formulas_are_neutralised_and_the_rest_untouched(value: object, expected: object) -> None:
    assert spreadsheet_safe(value) == expected
