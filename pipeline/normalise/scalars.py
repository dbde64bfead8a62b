"""Reading scalars: numbers in their many spellings, booleans, the start of a long value, and the two
fields that are only a number (counts, ratings). Whether a value is missing at all is
`core.course_record.is_missing`.

Every other field family builds on these helpers.
"""

from __future__ import annotations

import decimal
import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

from core.course_record import is_missing

MAX_COUNT = 2_000_000_000  # fits the INTEGER column rating_count; beyond it a value is an accident
# Text parsers only look at the start of a field: a duration or a price is never long, and this
# bounds the time spent on a hostile multi-megabyte value.
_SCAN_CHARS = 500


def _as_number(value: Any) -> float | None:
    """A finite float from a real number (not a bool); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | decimal.Decimal):
        return None
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError):
        return None
    return number if math.isfinite(number) else None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().casefold()
        if word in ("true", "yes", "1", "y", "t"):
            return True
        if word in ("false", "no", "0", "n", "f"):
            return False
        return None
    number = _as_number(value)
    if number in (0.0, 1.0):
        return bool(number)
    return None


def _short(value: Any, limit: int = _SCAN_CHARS) -> str | None:
    """The start of a scalar as text, for the small parsers; None when there is nothing."""
    if is_missing(value) or isinstance(value, Mapping | list | tuple | set | bytes):
        return None
    text = str(value)[: limit + 1000].strip()  # sliced first: values can be megabytes long
    return text[:limit] or None


_NUMBER_GROUP_SEPARATORS = str.maketrans("", "", "\u00a0\u202f' ")
# Indian digit grouping: thousands, then lakhs and crores in pairs ("1,67,409" is 167,409).
_LAKH_GROUPED = re.compile(r"\d{1,2}(?:,\d{2})+,\d{3}")


def _parse_number(token: str, *, integer: bool = False) -> float | None:
    """Read "1,234.50", "1.234,50", "49,99", "1 234" (with a no-break space) as a float.

    With both separators the last one is the decimal mark. Groups of exactly three digits after ","
    ("1,234", "1,234,567") are thousands; after "." only when repeated ("1.234.567") or when
    `integer` is set (counts are whole numbers). Indian grouping ("1,67,409", "12,34,567") is
    read as one number. Otherwise a lone "," is a decimal comma ("49,99") and a lone "." a
    decimal point.
    """
    token = token.strip().strip(".,'").translate(_NUMBER_GROUP_SEPARATORS)
    if not token or not token[0].isdigit():
        return None
    if "," in token and "." in token:
        decimal_mark = "," if token.rfind(",") > token.rfind(".") else "."
        group_mark = "." if decimal_mark == "," else ","
        whole, _, fraction = token.replace(group_mark, "").rpartition(decimal_mark)
        token = f"{whole}.{fraction}"
    elif _LAKH_GROUPED.fullmatch(token):
        token = token.replace(",", "")
    elif "," in token or "." in token:
        mark = "," if "," in token else "."
        grouped = re.fullmatch(rf"\d{{1,3}}(?:\{mark}\d{{3}})+", token)
        if grouped and (token.count(mark) > 1 or integer or mark == ","):
            token = token.replace(mark, "")
        elif token.count(mark) == 1:
            token = token.replace(mark, ".")
        else:
            return None
    try:
        number = float(token)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


# ---------------------------------------------------------------------------------------- counts

_COUNT = re.compile(
    r"(?<![\w.,])(?P<num>\d[\d.,\u00a0\u202f']*+)\s*(?P<suffix>k|m|b|thousand|million|billion|mio)?(?![a-z])",
    re.IGNORECASE,
)
_COUNT_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "mio": 1e6, "b": 1e9, "billion": 1e9}


def parse_count(raw: Any) -> int | None:
    """A non-negative count: 6100.0, "124,980", "5.3k" → 5300, "1.2m" → 1,200,000, "12K+ students",
    "1,67,409" (Indian grouping: 167,409).

    A "," or "." before exactly three digits is a thousands separator ("1.234" → 1234: counts are
    whole numbers); with a suffix it is a decimal mark ("1,2k" → 1200). Fractions are rounded;
    negative values and values above MAX_COUNT give None.
    """
    if isinstance(raw, bool):
        return None
    number = _as_number(raw)
    if number is None:
        text = _short(raw, 100)
        if text is None or re.match(r"\s*[-−]\s*\d", text):
            return None
        match = _COUNT.search(text)
        if not match:
            return None
        suffix = (match.group("suffix") or "").casefold()
        number = _parse_number(match.group("num"), integer=not suffix)
        if number is None:
            return None
        number *= _COUNT_MULTIPLIERS.get(suffix, 1.0)
    if not 0 <= number <= MAX_COUNT:
        return None
    return round(number)


_RATING_SCALE = re.compile(r"(?:/|out\s+of|of)\s*(\d+(?:[.,]\d+)?)", re.IGNORECASE)


def parse_rating(raw: Any, scale: float = 5.0) -> float | None:
    """An average rating on a 0–5 scale: 4.6, "4.6", "4,6", "4.6 out of 5", "9.2/10" → 4.6.

    A text naming its own scale ("/10", "out of 100") is rescaled to `scale`. Values outside
    (0, scale] give None: 0 means "not rated yet" on every provider we read (their scales start at
    0.5 or 1).
    """
    if isinstance(raw, bool):
        return None
    number = _as_number(raw)
    if number is None:
        text = _short(raw, 50)
        if text is None or re.match(r"\s*[-−]", text):
            return None
        match = re.search(r"\d+(?:[.,]\d+)?", text)
        if not match:
            return None
        number = _parse_number(match.group(0))
        if number is None:
            return None
        if (out_of := _RATING_SCALE.search(text[match.end() :])) and (top := _parse_number(out_of.group(1))):
            number = number * scale / top
    if not 0 < number <= scale:
        return None
    return round(number, 3)
