"""Normalise raw crawl values onto the course record (see DESIGN.md, "The course record").

Every function here is pure and total: it takes whatever a spider yielded (text, a number, a list,
a dict, None, NaN) and returns a normalised value or None. A value it cannot read becomes None; it
never raises on bad input, so one odd item never stops `build`. `normalise_item` is the one entry
point `build` calls; the smaller functions are public so spiders' tests and the dashboard can use
the same conventions.

The one exception to "no I/O": language detection (`pipeline.language`) loads the py3langid model
that ships inside its PyPI package, once, the first time a text has to be detected.

Conventions (each repeated where it is applied):

- Ranges count at their midpoint: "2–3 hours per week" is 2.5 h/week. A reversed range ("3 to 1")
  is read as the same range in order.
- A bound counts at 0.75 of it ("Less Than 2 Hours" → 1.5 h: the midpoint of half the bound up to
  the bound) and an open bound at 1.25 of it ("more than 10 hours" → 12.5 h).
- A calendar length with no stated effort ("1 - 3 Months", "6 Weeks") is converted at
  ASSUMED_WEEKLY_HOURS = 10 h/week — Coursera's own phrasing for specializations and professional
  certificates ("3 months at 10 hours a week") — with a month of 365.25/12/7 ≈ 4.348 weeks.
- "$" is US dollars and "¥" is Japanese yen unless the text names another ISO code ("CA$", "CN¥",
  "$49 CAD"); an explicit `currency` argument wins over anything in the text.
- Languages keep only the primary subtag ("en-US", "en_us", "English (US)" → "en"): in_language is a
  filter facet and sources disagree on regions for the same language.
"""

from __future__ import annotations

import decimal
import html
import json
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import ftfy
import lxml.html
from lxml import etree

from pipeline.language import detect_language, normalise_language

__all__ = [
    "ACCESS_MODELS",
    "ASSUMED_WEEKLY_HOURS",
    "CREDENTIAL_KINDS",
    "COURSE_MODES",
    "LEVELS",
    "Credential",
    "Duration",
    "ITEM_KEYS",
    "Offer",
    "clean_text",
    "detect_language",
    "is_lowercased_title",
    "normalise_course_mode",
    "normalise_credential",
    "normalise_item",
    "normalise_language",
    "normalise_level",
    "parse_count",
    "parse_duration",
    "parse_offer",
    "parse_rating",
    "title_case",
]

ACCESS_MODELS = ("free", "free-audit+paid-certificate", "paid", "subscription")
LEVELS = ("beginner", "intermediate", "advanced", "mixed")
COURSE_MODES = ("self-paced", "scheduled")
CREDENTIAL_KINDS = (
    "none",
    "certificate",
    "professional certificate",
    "specialization",
    "program",
    "degree",
    "badge",
    "guided project",
)

ASSUMED_WEEKLY_HOURS = 10.0
WEEKS_PER_MONTH = 365.25 / 12 / 7
WEEKS_PER_YEAR = 365.25 / 7

# Sanity bounds: anything beyond them is a parsing accident or a hostile value, not a course.
MAX_TOTAL_HOURS = 10_000.0  # a four-year degree is ~5,400 h of study
MAX_WEEKLY_HOURS = 168.0  # hours in a week
MAX_WEEKS = 520.0  # ten years
MAX_PRICE = 100_000.0  # online master's degrees stay below it
MAX_PRICE_HIGH_NOMINAL = 100_000_000.0  # for currencies whose unit is worth far less than a dollar
MAX_COUNT = 2_000_000_000  # fits the INTEGER column rating_count
NAME_MAX_CHARS = 500
SHORT_TEXT_MAX_CHARS = 300
URL_MAX_CHARS = 2048
# Text parsers only look at the start of a field: a duration or a price is never long, and this
# bounds the time spent on a hostile multi-megabyte value.
_SCAN_CHARS = 500


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


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
    if _is_missing(value) or isinstance(value, Mapping | list | tuple | set | bytes):
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


# ---------------------------------------------------------------------------------------- offers


@dataclass(frozen=True)
class Offer:
    """The current offer: `price` in `currency` (ISO 4217) for access under `access_model`.

    For free-audit+paid-certificate, `price` is 0 (access) and `certificate_price` is what the
    certificate costs. For subscription, `price` is the amount per period when one is stated.
    """

    price: float | None = None
    currency: str | None = None
    access_model: str | None = None
    certificate_price: float | None = None


# Currencies recognised inside free text. Only these, so that an upper-case word such as "ADD" in
# "FREE-ADD A VERIFIED CERTIFICATE" is never taken for a currency code.
# fmt: off
_ISO_CURRENCIES = frozenset((
    "USD", "EUR", "GBP", "JPY", "CNY", "INR", "AUD", "CAD", "CHF", "SEK", "NOK", "DKK", "ISK", "PLN", "CZK", "HUF",
    "RON", "BGN", "RUB", "UAH", "TRY", "BRL", "MXN", "ARS", "CLP", "COP", "PEN", "UYU", "ZAR", "NGN", "KES", "GHS",
    "EGP", "MAD", "SAR", "AED", "QAR", "ILS", "KRW", "SGD", "HKD", "TWD", "NZD", "THB", "IDR", "MYR", "PHP", "VND",
    "PKR", "BDT", "LKR", "NPR", "KZT",
))
# fmt: on
# Currencies whose unit is worth about a cent or less: prices in them legitimately run to millions.
# fmt: off
_HIGH_NOMINAL_CURRENCIES = frozenset((
    "JPY", "KRW", "INR", "IDR", "VND", "HUF", "CLP", "COP", "NGN", "PKR", "LKR", "KZT", "UGX", "TZS", "IRR", "MNT",
    "UZS",
))
# fmt: on
# Longest first, so "CA$" is tried before "$".
_CURRENCY_SYMBOLS = {
    "US$": "USD",
    "CA$": "CAD",
    "C$": "CAD",
    "AU$": "AUD",
    "A$": "AUD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "R$": "BRL",
    "MX$": "MXN",
    "CN¥": "CNY",
    "RMB": "CNY",
    "元": "CNY",
    "円": "JPY",
    "zł": "PLN",
    "Kč": "CZK",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "￥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
    "₫": "VND",
    "₱": "PHP",
    "₦": "NGN",
}
_CURRENCY_WORDS = {
    "dollar": "USD",
    "dollars": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
    "rupee": "INR",
    "rupees": "INR",
    "yen": "JPY",
}
_SYMBOL_ALTERNATION = "|".join(re.escape(s) for s in sorted(_CURRENCY_SYMBOLS, key=len, reverse=True))
_ISO_IN_TEXT = re.compile(r"(?<![A-Za-z])(" + "|".join(sorted(_ISO_CURRENCIES)) + r")(?![A-Za-z])")
_SYMBOL_IN_TEXT = re.compile(_SYMBOL_ALTERNATION)
_WORD_IN_TEXT = re.compile(r"\b(" + "|".join(_CURRENCY_WORDS) + r")\b", re.IGNORECASE)

# An amount, with the currency marks that may touch it. The sign only counts at the start of a
# word: in "$10-$20" the dash is a range, in "FREE-Add" it is not near a number at all. The number
# is possessive so that "50%" cannot backtrack to "5".
_MONEY = re.compile(
    rf"(?:(?<![\w.,)])(?P<sign>[-−]))?\s*(?P<pre>{_SYMBOL_ALTERNATION})?\s*"
    r"(?P<num>\d[\d.,\u00a0\u202f']*+)(?!\s*%)"
    rf"(?:\s*(?P<post>{_SYMBOL_ALTERNATION}|[A-Z]{{3}}(?![A-Za-z])))?"
)
_SUBSCRIPTION = re.compile(
    r"subscri|membership|per\s+(?:month|year|annum)|/\s*(?:mo|month|yr|year)\b|\ba\s+month\b|\bmonthly\b|"
    r"\bannual(?:ly)?\b|\byearly\b|included\s+with"
)
_FREE = re.compile(r"\bfree\b|\bgratis\b|\bgratuit[oae]?s?\b|\bkostenlos\b|\baudit\b|\bno\s+cost\b")
_CERTIFICATE_WORD = re.compile(r"certific|verified|upgrade|credential")
_PAID = re.compile(r"\bpaid\b|\bpremium\b|\bpurchase\b|\bbuy\b")


def _currency_code(value: Any) -> str | None:
    """ISO 4217 code from an explicit currency field: "usd", "USD", "$", "€", "euros"."""
    text = _short(value, 20)
    if text is None:
        return None
    if re.fullmatch(r"[A-Za-z]{3}", text):
        return text.upper()
    if text in _CURRENCY_SYMBOLS:
        return _CURRENCY_SYMBOLS[text]
    return _CURRENCY_WORDS.get(text.casefold())


def _currency_in_text(text: str) -> str | None:
    """An ISO code named anywhere wins over a symbol ("$49 CAD" is Canadian)."""
    if match := _ISO_IN_TEXT.search(text):
        return match.group(1)
    if match := _SYMBOL_IN_TEXT.search(text):
        return _CURRENCY_SYMBOLS[match.group(0)]
    if match := _WORD_IN_TEXT.search(text):
        return _CURRENCY_WORDS[match.group(1).casefold()]
    return None


def _plausible_price(amount: float, currency: str | None) -> bool:
    cap = MAX_PRICE_HIGH_NOMINAL if currency in _HIGH_NOMINAL_CURRENCIES else MAX_PRICE
    return 0 <= amount <= cap


def _amounts_in_text(text: str) -> tuple[list[float], bool]:
    """Amounts in reading order, preferring those marked with a currency; and whether one was negative."""
    marked: list[float] = []
    bare: list[float] = []
    negative = False
    for match in _MONEY.finditer(text):
        post = match.group("post")
        if post and post[0].isalpha() and post.upper() not in _ISO_CURRENCIES and post not in _CURRENCY_SYMBOLS:
            post = None  # "49 ADD" is a bare number followed by a word
        amount = _parse_number(match.group("num"))
        if amount is None:
            continue
        if match.group("sign"):
            negative = True
        (marked if match.group("pre") or post else bare).append(amount)
    return (marked or bare), negative


def _offer_from_text(text: str, currency: str | None) -> Offer:
    low = text.casefold()
    currency = currency or _currency_in_text(text)
    amounts, negative = _amounts_in_text(text)
    if negative or any(not _plausible_price(a, currency) for a in amounts):
        return Offer(currency=currency)
    first_amount = amounts[0] if amounts else None
    if _SUBSCRIPTION.search(low):
        return Offer(first_amount, currency, "subscription")
    positive = [a for a in amounts if a > 0]
    if _FREE.search(low):
        if positive and _CERTIFICATE_WORD.search(low):
            return Offer(0.0, currency, "free-audit+paid-certificate", positive[0])
        return Offer(0.0, currency, "free")
    if first_amount is None:
        return Offer(None, currency, "paid" if _PAID.search(low) else None)
    return Offer(first_amount, currency, "free" if first_amount == 0 else "paid")


def _offer_from_scalar(value: Any, currency: str | None) -> Offer:
    if isinstance(value, bool):
        return Offer(currency=currency)
    number = _as_number(value)
    if number is not None:
        if not _plausible_price(number, currency):
            return Offer(currency=currency)
        return Offer(number, currency, "free" if number == 0 else "paid")
    text = _short(value)
    return Offer(currency=currency) if text is None else _offer_from_text(text, currency)


_AUDIT_KIND = re.compile(r"audit|honor|free|participation")
_KIND_KEYS = ("type", "mode_slug", "title", "name", "category", "@type")
_PRICE_KEYS = ("price", "amount", "current_price", "lowPrice", "min_amount")
_CURRENCY_KEYS = ("currency", "priceCurrency", "currency_code", "currencyCode")
_LIST_KEYS = ("seats", "verifications", "offers", "prices", "products", "tracks")


def _first_present(mapping: Mapping, keys: Iterable[str]) -> Any:
    for key in keys:
        value = mapping.get(key)
        if not _is_missing(value):
            return value
    return None


def _offer_from_seats(seats: Iterable[Any], currency: str | None) -> Offer:
    """edX seats / iversity verifications: a free seat beside a paid one is free audit + paid certificate."""
    free_seen = False
    paid: list[Offer] = []
    for seat in list(seats)[:50]:
        if isinstance(seat, Mapping):
            kind = str(_first_present(seat, _KIND_KEYS) or "").casefold()
            seat_currency = _currency_code(_first_present(seat, _CURRENCY_KEYS)) or currency
            offer = _offer_from_scalar(_first_present(seat, _PRICE_KEYS), seat_currency)
        else:
            kind, offer = "", _offer_from_scalar(seat, currency)
        if offer.access_model == "free" or (
            offer.price is None and offer.access_model is None and _AUDIT_KIND.search(kind)
        ):
            free_seen = True
        elif offer.access_model == "paid" and offer.price is not None:
            paid.append(offer)
    if paid:
        cheapest = min(paid, key=lambda o: o.price or 0.0)
        if free_seen:
            return Offer(0.0, cheapest.currency, "free-audit+paid-certificate", cheapest.price)
        return cheapest
    if free_seen:
        return Offer(0.0, currency, "free")
    return Offer(currency=currency)


def _offer_from_mapping(mapping: Mapping, currency: str | None) -> tuple[Offer, bool | None]:
    currency = currency or _currency_code(_first_present(mapping, _CURRENCY_KEYS))
    free_flag = _as_bool(mapping.get("isAccessibleForFree", mapping.get("is_free")))
    if free_flag is None and _as_bool(mapping.get("is_paid")) is not None:
        free_flag = not _as_bool(mapping.get("is_paid"))
    for key in _LIST_KEYS:
        seats = mapping.get(key)
        if isinstance(seats, list | tuple) and seats:
            return _offer_from_seats(seats, currency), free_flag
    if "min_price" in mapping or "max_price" in mapping:
        # MITx Online: courses are free to audit; min/max_price bound the certificate's flexible
        # price, so the list price is the maximum.
        bounds = [_offer_from_scalar(mapping.get(k), currency) for k in ("min_price", "max_price")]
        prices = [o.price for o in bounds if o.access_model == "paid" and o.price is not None]
        if prices:
            return Offer(0.0, currency, "free-audit+paid-certificate", max(prices)), free_flag
    # JSON-LD Offer/AggregateOffer, Udemy price_detail, xPRO current_price: one price (the lowest).
    return _offer_from_scalar(_first_present(mapping, _PRICE_KEYS), currency), free_flag


def _apply_free_flag(offer: Offer, is_free: bool | None, currency: str | None) -> Offer:
    """The source's explicit flag wins over the price on the access model.

    is_free True says there is a free way in. Beside a price (edX's verified seat, MITx Online's
    current price, iversity's certificate track, a JSON-LD Offer with isAccessibleForFree) the
    price buys the certificate: free-audit+paid-certificate. is_free False turns free into paid.
    """
    currency = offer.currency or currency
    if is_free is True:
        if offer.access_model in ("paid", "subscription") and offer.price:
            certificate_price = offer.price if offer.access_model == "paid" else None
            return Offer(0.0, currency, "free-audit+paid-certificate", certificate_price)
        if offer.access_model != "free-audit+paid-certificate":
            return Offer(0.0, currency, "free")
    if is_free is False and offer.access_model in ("free", None):
        return Offer(None, currency, "paid")
    return offer


def parse_offer(price: Any, currency: Any = None, is_free: Any = None) -> Offer:
    """Normalise a raw price into an `Offer`.

    `price` may be a number, a text ("FREE-Add a Verified Certificate for $49 USD", "$49",
    "€1,234.50", "149 €", "Free", "$39 per month"), a list of seats ([{type: audit, price: "0.00"},
    {type: verified, price: "49.00", currency: "USD"}]) or a dict (MITx Online {min_price, max_price},
    JSON-LD Offer/AggregateOffer, Udemy price_detail {amount, currency}).

    - A free seat or the word "free" beside a positive amount and a certificate word is
      free-audit+paid-certificate; free alone is free; words for a period ("per month",
      "subscription", "included with") make a subscription.
    - MITx Online's {min_price, max_price} is the certificate's flexible price range on a platform
      where auditing is free: free-audit+paid-certificate at the list (maximum) price.
    - JSON-LD AggregateOffer counts at its lowPrice.
    - `is_free` (bool, or "true"/"false"; Udemy's is_paid inverted) wins over the price on the
      access model. True means a free way in exists: beside a positive price (edX's verified seat
      with an audit seat, MITx Online's price with an audit mode) it makes free-audit+paid-certificate
      with that price as certificate_price; alone it makes free. False turns free into paid.
    - A negative amount, or one above MAX_PRICE (MAX_PRICE_HIGH_NOMINAL for yen, won, rupees...),
      makes the offer unknown: price and access model None.
    """
    explicit_currency = _currency_code(currency)
    free_flag = _as_bool(is_free)
    if isinstance(price, Mapping):
        offer, mapping_flag = _offer_from_mapping(price, explicit_currency)
        free_flag = free_flag if free_flag is not None else mapping_flag
    elif isinstance(price, list | tuple):
        offer = _offer_from_seats(price, explicit_currency)
    else:
        offer = _offer_from_scalar(price, explicit_currency)
    if explicit_currency and offer.currency != explicit_currency:
        offer = Offer(offer.price, explicit_currency, offer.access_model, offer.certificate_price)
    return _apply_free_flag(offer, free_flag, explicit_currency)


# -------------------------------------------------------------------------------------- duration


@dataclass(frozen=True)
class Duration:
    """Total estimated hours, hours per week when stated, and the raw values it was read from."""

    hours: float | None = None
    weekly_hours: float | None = None
    raw: str | None = None


_ISO_DURATION = re.compile(
    r"P(?!$)(?:(?P<years>\d+(?:[.,]\d+)?)Y)?(?:(?P<months>\d+(?:[.,]\d+)?)M)?(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<days>\d+(?:[.,]\d+)?)D)?(?:T(?=\d)(?:(?P<hours>\d+(?:[.,]\d+)?)H)?"
    r"(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?",
    re.IGNORECASE,
)
_NUM = r"\d+(?:[.,]\d+)?"
_QUANTITY = re.compile(
    r"(?P<qual>less\s+than|fewer\s+than|under|up\s+to|at\s+most|below|<|more\s+than|over|at\s+least|above|>)?\s*"
    rf"(?<![\w.,])(?P<a>{_NUM})(?:\s*(?:-|–|—|to|or)\s*(?P<b>{_NUM}))?\s*(?P<plus>\+)?\s*(?:total\s+)?"
    r"(?P<unit>hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s|weeks?|wks?|w|months?|mos?|days?|d|years?|yrs?)"
    r"(?![a-z])(?:(?P<per>\s*(?:per|/|a|an|each|every)\s*(?:week|wk|w)(?![a-z])|\s*weekly)"
    r"|(?P<per_other>\s*(?:per|/|a|an|each|every)\s*(?:day|month|mo|year|yr)(?![a-z])|\s*(?:daily|monthly)))?",
    re.IGNORECASE,
)
_UPPER_BOUNDS = frozenset({"less than", "fewer than", "under", "up to", "at most", "below", "<"})
_UNIT_HOURS = {"h": 1.0, "m": 1 / 60, "s": 1 / 3600}
_UNIT_WEEKS = {"w": 1.0, "mo": WEEKS_PER_MONTH, "d": 1 / 7, "y": WEEKS_PER_YEAR}


def _unit_key(unit: str) -> str:
    unit = unit.casefold()
    if unit.startswith("mo"):
        return "mo"
    if unit.startswith("mi") or unit == "m":
        return "m"
    return unit[0]


def _quantity_value(match: re.Match[str]) -> float | None:
    low = _parse_number(match.group("a"))
    high = _parse_number(match.group("b")) if match.group("b") else low
    if low is None or high is None:
        return None
    value = (min(low, high) + max(low, high)) / 2
    qualifier = " ".join((match.group("qual") or "").casefold().split())
    if qualifier in _UPPER_BOUNDS:
        value *= 0.75  # "less than 2 hours": midpoint of half the bound up to the bound
    elif qualifier or match.group("plus"):
        value *= 1.25  # "more than 10 hours", "10+ hours"
    return value


@dataclass
class _Reading:
    total_hours: float | None = None
    weekly_hours: float | None = None
    weeks: float | None = None

    def add_total(self, hours: float) -> None:
        self.total_hours = (self.total_hours or 0.0) + hours


def _read_duration_text(text: str, reading: _Reading, *, bare_number_unit: str | None) -> None:
    iso = _ISO_DURATION.fullmatch(text.strip())
    if iso:
        parts = {k: _parse_number(v) or 0.0 for k, v in iso.groupdict().items() if v}
        effort = parts.get("hours", 0.0) + parts.get("minutes", 0.0) / 60 + parts.get("seconds", 0.0) / 3600
        calendar = (
            parts.get("years", 0.0) * WEEKS_PER_YEAR
            + parts.get("months", 0.0) * WEEKS_PER_MONTH
            + parts.get("weeks", 0.0)
            + parts.get("days", 0.0) / 7
        )
        if effort:
            reading.add_total(effort)
        if calendar:
            reading.weeks = calendar
        return
    found = False
    for match in _QUANTITY.finditer(text):
        value = _quantity_value(match)
        if value is None:
            continue
        found = True
        unit = _unit_key(match.group("unit"))
        if match.group("per_other"):
            continue  # hours per day or per month: not comparable without knowing the days
        if match.group("per"):
            if unit in _UNIT_HOURS and reading.weekly_hours is None:
                reading.weekly_hours = value * _UNIT_HOURS[unit]
        elif unit in _UNIT_HOURS:
            reading.add_total(value * _UNIT_HOURS[unit])
        elif reading.weeks is None:
            reading.weeks = value * _UNIT_WEEKS[unit]
    if not found and bare_number_unit and (number := _parse_number(text)) is not None:
        if bare_number_unit == "weeks":
            reading.weeks = number
        else:
            reading.add_total(number)


def _raw_part(value: Any, unit: str | None) -> str | None:
    if isinstance(value, bool):
        return None
    number = _as_number(value)
    if number is not None:
        return f"{number:g} {unit}" if unit else f"{number:g}"
    return _short(value)


def parse_duration(duration: Any = None, weeks: Any = None, hours: Any = None, minutes: Any = None) -> Duration:
    """Total estimated hours from a duration text, a length, and/or numbers of hours or minutes.

    Accepted: effort per week ("2–3 hours per week", "7 hrs/wk", "5-10 hours/week", "4 Hours per
    Week"), lengths ("6 Weeks", "1 - 3 Months", "14 weeks", a bare number in `weeks`), totals
    ("8 total hours", "Less Than 2 Hours", "45 minutes", "1h 30m", ISO 8601 "PT4H30M"), both in one
    text ("3 weeks at 6 hours a week"), `hours` (Udemy content_duration, MS Learn duration_in_hours)
    and `minutes` (MS Learn duration_in_minutes).

    The total is, in order of preference: the numbers given as `hours`/`minutes`; a total stated in
    the text; effort per week × length; length × ASSUMED_WEEKLY_HOURS (10 h/week, Coursera's own
    phrasing) when only a calendar length is known. ISO 8601 weeks/months/days ("P2W") are calendar
    lengths like "2 weeks"; its time part ("PT2H44M") is effort.

    Ranges count at their midpoint, reversed ranges in order; "less than X" counts as 0.75·X and
    "more than X"/"X+" as 1.25·X. Zero, negative or absurd values (above MAX_TOTAL_HOURS,
    MAX_WEEKLY_HOURS, MAX_WEEKS) give None. `raw` joins the given values, numbers with their unit.
    """
    reading = _Reading()
    explicit_total = None
    for value, per_hour in ((hours, 1.0), (minutes, 1 / 60)):
        number = _as_number(value)
        if number is None and (text := _short(value)) is not None:
            number = _parse_number(text)
            if number is None:  # a text in a numeric field: read it as a duration
                _read_duration_text(text, reading, bare_number_unit=None)
        if number is not None:
            explicit_total = (explicit_total or 0.0) + number * per_hour
    for value, bare_unit in ((duration, None), (weeks, "weeks")):
        number = _as_number(value)
        if number is not None:
            if bare_unit == "weeks":
                reading.weeks = number
        elif (text := _short(value)) is not None:
            _read_duration_text(text, reading, bare_number_unit=bare_unit)

    weekly = reading.weekly_hours
    weekly = weekly if weekly is not None and 0 < weekly <= MAX_WEEKLY_HOURS else None
    length = reading.weeks if reading.weeks is not None and 0 < reading.weeks <= MAX_WEEKS else None
    if explicit_total is not None:
        total = explicit_total
    elif reading.total_hours is not None:
        total = reading.total_hours
    elif length is not None:
        total = length * (weekly if weekly is not None else ASSUMED_WEEKLY_HOURS)
    else:
        total = None
    absurd_weekly = reading.weekly_hours is not None and weekly is None
    absurd_part = absurd_weekly or (reading.weeks is not None and length is None)
    if explicit_total is None and absurd_part:
        total = None  # the text gave an impossible effort or length: its estimate is untrustworthy
    if total is not None and not 0 < total <= MAX_TOTAL_HOURS:
        total = None

    parts = [
        _raw_part(duration, None),
        _raw_part(weeks, "weeks"),
        _raw_part(hours, "hours"),
        _raw_part(minutes, "minutes"),
    ]
    raw = ", ".join(p for p in parts if p) or None
    return Duration(
        hours=round(total, 2) if total is not None else None,
        weekly_hours=round(weekly, 2) if weekly is not None else None,
        raw=raw,
    )


# A duration the provider gave as one total of hours or minutes ("1.5 hours", "45 minutes", "PT4H"):
# its hours are the provider's. Anything else (a calendar length, effort per week, a range, "less
# than") was turned into hours by `parse_duration` and is an estimate.
_STATED_TOTAL = re.compile(
    r"\s*(?:\d+(?:[.,]\d+)?\s*(?:total\s+)?(?:hours?|hrs?|h|minutes?|mins?|m)\b\s*(?:total)?\s*|PT(?:\d+H)?(?:\d+M)?)\s*",
    re.IGNORECASE,
)


def hours_estimated(duration_raw: str | None) -> bool:
    """Whether a course's hours are our estimate from `duration_raw` ("1 - 3 Months" at 10 h a week,
    "2–3 hours per week, 6 Weeks") rather than a total the provider stated ("1.5 hours")."""
    return not (isinstance(duration_raw, str) and _STATED_TOTAL.fullmatch(duration_raw))


# ----------------------------------------------------------------------------------------- level

_LEVEL_WORDS = (
    # LinkedIn Learning's "General" (for every learner) only when it is the whole term: a level
    # field never says "general" otherwise, and a course title may ("General Chemistry").
    (
        "mixed",
        r"all\s+levels?|mixed|any\s+level|every\s+level|everyone|todos\s+los\s+niveles|tous\s+niveaux|^general$",
    ),
    (
        "beginner",
        r"beginners?|introductory|intro|introduction|basic|basics|elementary|novice|foundational|foundation|"
        r"entry(?:-|\s)level|starter|easy|high\s+school|principiante|b[áa]sico|iniciante|d[ée]butant|anf[äa]nger",
    ),
    ("intermediate", r"intermediate|medium|moderate|undergraduate|intermedio|interm[ée]diaire|intermedi[áa]rio"),
    (
        "advanced",
        r"advanced|expert|graduate|postgraduate|difficult|hard|avanzado|avanc[ée]|avan[çc]ado|fortgeschritten",
    ),
)
_LEVEL_PATTERNS = tuple((level, re.compile(rf"(?<!\w)(?:{words})(?!\w)")) for level, words in _LEVEL_WORDS)


def _levels_in(text: str) -> set[str]:
    low = text.casefold()
    return {level for level, pattern in _LEVEL_PATTERNS if pattern.search(low)}


def normalise_level(raw: Any) -> str | None:
    """beginner | intermediate | advanced | mixed, or None when the term is unknown.

    "Introductory", "Beginner Level", "Beginner" → beginner; "Intermediate Level" → intermediate;
    "Expert Level", "Advanced" → advanced; "All Levels", "Mixed", LinkedIn Learning's "General" →
    mixed. A span of levels ("beginner-intermediate", "Intermediate/Advanced", LinkedIn Learning's
    "Beginner + Intermediate", MS Learn ["beginner", "intermediate"]) → mixed:
    the course addresses more than one level, which is what Coursera's "Mixed" and Udemy's
    "All Levels" say too. MIT OpenCourseWare's school levels map to the nearest: "High School" →
    beginner, "Undergraduate" → intermediate, "Graduate" → advanced.
    """
    values = raw if isinstance(raw, list | tuple) else [raw]
    found: set[str] = set()
    for value in values[:20]:
        text = _short(value, 100)
        if text is not None:
            found |= _levels_in(text)
    if not found:
        return None
    if "mixed" in found or len(found) > 1:
        return "mixed"
    return found.pop()


# ------------------------------------------------------------------------------------ credential


@dataclass(frozen=True)
class Credential:
    """What finishing earns (`kind`, one of CREDENTIAL_KINDS or None if unknown) and the provider's term."""

    kind: str | None = None
    raw: str | None = None


# First match wins, so the specific terms come before the words they contain ("Professional
# Certificate" before "certificate", "MicroMasters"/"Nanodegree" before "master"/"degree").
_CREDENTIAL_RULES = (
    ("none", r"^(?:none|no|n/a)$|no\s+certificate|without\s+(?:a\s+)?certificate|not\s+included|^audit"),
    ("guided project", r"guided\s+project|^projects?$"),
    ("professional certificate", r"professional\s+certific|profcert|certificado\s+profesional"),
    ("specialization", r"speciali[sz]ation|especializaci[óo]n|spécialisation"),
    ("program", r"micro\s*masters|micro\s*bachelors|xseries|master\s*track|nanodegree|program|bootcamp"),
    (
        "degree",
        r"\bdegree|bachelor|\bmasters?\b(?!\s*class)|\bmaster[’']s|\bm\.?sc\b|\bmba\b|\bb\.?sc\b|\bph\.?d\b|"
        r"doctora|licenciatura|grado\b",
    ),
    ("badge", r"badge"),
    (
        "certificate",
        r"certific|certified|zertifikat|verified|\bhonor|statement\s+of|credential|credit|\bects\b|diploma|"
        r"^course$|^cert$",
    ),
)
_CREDENTIAL_PATTERNS = tuple((kind, re.compile(pattern)) for kind, pattern in _CREDENTIAL_RULES)


def normalise_credential(raw: Any) -> Credential:
    """The credential a listing leads to, from the provider's own term.

    - "COURSE"/"Course" (Coursera's certificate type / learning product) → certificate: every
      Coursera course issues a course certificate to learners who pay for it.
    - "SPECIALIZATION" → specialization; "PROFESSIONAL CERTIFICATE", "Professional Certificate
      Program" → professional certificate; "Guided Project" and Coursera's "Project" → guided project.
    - "MicroMasters", "XSeries", "MasterTrack", "Nanodegree", "... Program" → program (a sequence of
      courses, even when it counts towards a degree); "Degree", "Master of ...", "MBA" → degree.
    - "verified", "Certificate of Completion", "honor", "Statement of Participation", "ECTS" →
      certificate; "badge" → badge; "Audit Track", "No certificate" → none.
    - A bool is read as "has a certificate" (Udemy has_certificate). Missing or unknown terms give
      kind None (unknown, which is not the same as "none"); `raw` keeps the provider's term.
    """
    if isinstance(raw, bool):
        return Credential("certificate" if raw else "none", str(raw))
    values = raw if isinstance(raw, list | tuple) else [raw]
    terms = [t for t in (_short(v, 200) for v in values[:20]) if t]
    if not terms:
        return Credential()
    for term in terms:
        low = " ".join(term.casefold().split())
        for kind, pattern in _CREDENTIAL_PATTERNS:
            if pattern.search(low):
                return Credential(kind, term)
    return Credential(None, terms[0])


# ----------------------------------------------------------------------------------- course mode

_SELF_PACED = re.compile(r"self[\s_-]*paced|on[\s_-]*demand|on\s+your\s+(?:own\s+)?time|anytime|at\s+your\s+own\s+pace")
_SCHEDULED = re.compile(
    r"instructor[\s_-]*(?:led|paced)|schedul|\bcohort|\bsession|\bdated\b|\blive\b|fixed\s+dates|\bsynchronous|"
    r"start\s+date"
)


def normalise_course_mode(raw: Any) -> str | None:
    """self-paced | scheduled, or None.

    "Self-paced on your time", edX pacing_type "self_paced", Coursera "v2.ondemand", MITx Online
    availability "anytime" → self-paced; "Instructor-led on a course schedule", "instructor_paced",
    Coursera "v1.session", "dated", "cohort-based" → scheduled. A bool is read as "is self-paced"
    (MITx Online is_self_paced). Delivery modes that say nothing about pacing ("Online", "Blended")
    and texts that say both give None.
    """
    if isinstance(raw, bool):
        return "self-paced" if raw else "scheduled"
    text = _short(raw, 200)
    if text is None:
        return None
    low = text.casefold()
    self_paced, scheduled = bool(_SELF_PACED.search(low)), bool(_SCHEDULED.search(low))
    if self_paced == scheduled:
        return None
    return "self-paced" if self_paced else "scheduled"


# ------------------------------------------------------------------------------------------ text

_LOOKS_LIKE_HTML = re.compile(
    r"<(?:!--|!doctype|/?(?:a|abbr|article|aside|b|big|blockquote|body|br|button|caption|center|code|dd|del|details|"
    r"div|dl|dt|em|figcaption|figure|font|footer|form|h[1-6]|head|header|hr|html|i|iframe|img|input|ins|kbd|label|"
    r"li|link|main|mark|meta|nav|noscript|object|ol|option|p|pre|q|s|script|section|select|small|span|strike|"
    r"strong|style|sub|summary|sup|svg|table|tbody|td|template|textarea|tfoot|th|thead|title|tr|tt|u|ul|video)"
    r"(?=[\s/>]))",
    re.IGNORECASE,
)
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_DROPPED_ELEMENTS = ("script", "style", "noscript", "template", "head", "svg", "iframe", "object")
_BLOCK_ELEMENTS = (
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "summary", "table", "tr", "ul",
)  # fmt: skip
_CELL_ELEMENTS = ("td", "th")
# C0 controls except tab and newline, DEL, lone surrogates (from broken JSON) and the BOM. C1
# controls stay: they are usually mojibake that ftfy repairs.
_UNWANTED_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufeff]")
_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,  # entities were decoded once already; "&amp;lt;" must stay "&lt;"
    uncurl_quotes=False,  # keep the provider's typography
    fix_character_width=False,  # keep full-width CJK punctuation as written
    explain=False,
)
# How much input is looked at, as a multiple of max_chars: real descriptions carry far less markup
# than this, and it bounds parse time on hostile multi-megabyte values.
_INPUT_FACTOR = 10


def _html_to_text(markup: str) -> str:
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(markup.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError):  # "Document is empty": only comments or whitespace
        return ""
    etree.strip_elements(root, *_DROPPED_ELEMENTS, with_tail=False)
    for element in root.iter(*_BLOCK_ELEMENTS):
        element.text = "\n" + (element.text or "")
        element.tail = "\n" + (element.tail or "")
    for element in root.iter(*_CELL_ELEMENTS):
        element.tail = " " + (element.tail or "")
    return "".join(root.itertext())


def _fold_whitespace(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def clean_text(raw: Any, max_chars: int = 20_000) -> str:
    """Plain text from a raw description or title: "" when there is none.

    - HTML (recognised by known tags, so "vector<int>" in plain text stays as is) is parsed with
      lxml.html (already installed with Scrapy; the stdlib html.parser is quadratic on hostile
      markup): <script>, <style>, <head> and similar are dropped with their content, so
      "<script>alert(1)</script>" leaves nothing; block elements become line breaks, table cells
      spaces; entities are decoded once ("&lt;script&gt;" stays visible as "<script>").
    - Text without tags only has its entities decoded ("Universit&auml;t" → "Universität").
    - Mojibake is repaired with ftfy (curly quotes and character widths kept); control characters
      and lone surrogates are dropped; emoji, right-to-left text and their joiners are kept.
    - Whitespace is folded: runs of spaces become one, blank lines disappear, lines are kept.
    - The result is capped at `max_chars`, at the last space in the final 100 characters when there
      is one. Only the first 10 × max_chars characters of input are read.
    """
    if _is_missing(raw) or max_chars <= 0:
        return ""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    elif not isinstance(raw, str):
        if isinstance(raw, Mapping | list | tuple | set):
            return ""
        raw = str(raw)
    text = _UNWANTED_CHARS.sub("", raw[: max_chars * _INPUT_FACTOR])
    if _LOOKS_LIKE_HTML.search(text):
        text = _html_to_text(text)
    elif _ENTITY.search(text):
        text = html.unescape(text)
    text = _fold_whitespace(text)[: max_chars * 2]
    if not text.isascii():  # mojibake needs non-ASCII characters; most titles and tags are ASCII
        # One call over the whole text: fix_text would split it into lines, each costing a full pass.
        text = _fold_whitespace(ftfy.fix_and_explain(text, config=_FTFY_CONFIG)[0])
    if len(text) > max_chars:
        cut = text[:max_chars]
        space = cut.rfind(" ", max_chars - 100)
        text = (cut[:space] if space > 0 else cut).rstrip()
    return text


# A sentence end glued to the next sentence: "ability?Having", "learner.The edX". The edX dataset
# lost the line breaks between its paragraphs. Two lower-case letters before the mark and a
# capitalised word after it, so "e.g.", "U.S.A.", "ASP.NET" and "Node.js" are left alone.
_GLUED_SENTENCES = re.compile(r"(?<=[a-z]{2}[.?!])(?=[A-Z][a-z])")


def separate_sentences(text: str) -> str:
    """`text` with a space put back between sentences that were glued together ("ability?Having")."""
    return _GLUED_SENTENCES.sub(" ", text)


def _clean_line(raw: Any, max_chars: int) -> str | None:
    """A one-line label (name, provider, skill): cleaned, on one line, None when empty."""
    return " ".join(clean_text(raw, max_chars).split()) or None


# ------------------------------------------------------------------------------------ title case

# How the catalogue spells words that are not simply capitalised, for titles that reach it all in
# lower case (Alison's dataset lowercased every title). Most are the spellings the other sources'
# titles on the mirror use for the words of those titles (the most frequent form, "JavaScript" 175
# times against "Javascript" 43); the rest are vocational and certification acronyms. Words that
# are also ordinary English words ("mean", "rest", "stem", "aids", "net") are not listed.
# fmt: off
TITLE_WORD_CASING: dict[str, str] = {word.casefold(): word for word in (
    "2D", "3D", "ACCA", "ADHD", "AI", "AJAX", "API", "AWS", "B2B", "B2C", "BI", "CAD", "CBT", "CC", "CCNA", "CEH",
    "CEO", "CFA", "CISSP", "CLEP", "CMS", "CNC", "COBIT", "COSHH", "COVID", "CPA", "CPR", "CRM", "CRUD", "CS6",
    "CSS", "CSS3", "DIY", "DNA", "DOM", "ECG", "EDM", "ERP", "ES6", "ESG", "ESL", "ETF", "ETFs", "EU", "GAAP",
    "GDPR", "GED", "GIS", "GMAT", "GPT", "HACCP", "HIV", "HR", "HSE", "HSK", "HTML", "HTML5", "HVAC", "IBM",
    "ICND1", "ICND2", "ICU", "IEC", "IELTS", "IFRS", "II", "III", "IoT", "IP", "IPv4", "IPv6", "ISMS", "ISO", "IT",
    "ITIL", "ITSM", "JSON", "KDP", "KPI", "KPIs", "LAN", "LGBT", "MBA", "MS", "MVC", "MySQL", "NEBOSH", "NFT",
    "NFTs", "NHS", "NLP", "OBS", "OCD", "OSHA", "PC", "PHP", "PLC", "PMP", "PPE", "PR", "PTSD", "QA", "ROI", "RNA",
    "RPG", "SAP", "SAS", "SCADA", "SEO", "SME", "SMEs", "SOC", "SPSS", "SQL", "SSL", "TCP", "TEFL", "TESOL",
    "TOEFL", "TQM", "TV", "UI", "UK", "USA", "UX", "VAT", "VBA", "VFX", "VPN", "WAN", "XML",
    "AutoCAD", "ChatGPT", "CompTIA", "CorelDRAW", "DaVinci", "DeFi", "DevOps", "eBay", "eCommerce", "FinTech",
    "GitHub", "iMovie", "InDesign", "iOS", "iPad", "iPhone", "JavaScript", "jQuery", "LinkedIn", "macOS",
    "MATLAB", "MetaTrader", "MicroStrategy", "MongoDB", "NumPy", "OneNote", "PayPal", "PivotTables",
    "PowerPoint", "QuickBooks", "RESTful", "SharePoint", "SOLIDWORKS", "TikTok", "VideoScribe", "WordPress",
    "YouTube",
)}
_TITLE_SMALL_WORDS = frozenset({
    "a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "nor", "of", "on", "or", "per", "the",
    "to", "via", "vs", "with",
})
# fmt: on


def is_lowercased_title(title: str) -> bool:
    """Whether a title has cased letters and none of them is a capital ("comptia cloud advanced")."""
    return title == title.lower() and title != title.upper()


def title_case(title: str) -> str:
    """A lowercased title cased as a title: "comptia cloud advanced" → "CompTIA Cloud Advanced".

    Words in TITLE_WORD_CASING take that spelling; a word spelling the initials of the words before
    it is an acronym ("person centred care pcc" → "... PCC", "general data protection regulation
    gdpr"); small words ("and", "of", "the"...) stay lower case except at the start; every other
    word gets a capital first letter, each part of a hyphenated word too. Only for titles that lost
    their case: a title with any capital is its author's.
    """
    words = title.split(" ")
    cased = []
    for position, word in enumerate(words):
        known = TITLE_WORD_CASING.get(word.casefold())
        if known is not None:
            cased.append(known)
        elif _spells_initials(word, words[:position]):
            cased.append(word.upper())
        elif position > 0 and word in _TITLE_SMALL_WORDS:
            cased.append(word)
        else:
            parts = (TITLE_WORD_CASING.get(part.casefold(), part[:1].upper() + part[1:]) for part in word.split("-"))
            cased.append("-".join(parts))
    return " ".join(cased)


def _spells_initials(word: str, before: list[str]) -> bool:
    """Whether `word` (2–6 letters) is the initials of the words just before it, small words skipped."""
    if not 2 <= len(word) <= 6 or not word.isalpha():
        return False
    initials = [w[0] for w in before if w and w not in _TITLE_SMALL_WORDS]
    return "".join(initials[-len(word) :]) == word


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


# ------------------------------------------------------------------------------------------ item

ITEM_KEYS = (
    "name",
    "description",
    "provider",
    "institution",
    "url",
    "in_language",
    "level",
    "hours",
    "duration_raw",
    "course_mode",
    "credential",
    "credential_raw",
    "price",
    "currency",
    "access_model",
    "certificate_price",
    "price_raw",
    "rating",
    "rating_count",
    "skills_declared",
    "extras",
)
_LIST_SEPARATORS = re.compile(r"[,;|\n]")
_MAX_LIST_ITEMS = 200
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)


def _json_safe(value: Any, depth: int = 0) -> Any:
    """A copy that json.dumps accepts: NaN/inf become None, unknown objects their str."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real | decimal.Decimal):
        return _as_number(value)
    if depth >= 20:
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v, depth + 1) for v in value]
    return str(value)


def _clean_list(raw: Any, max_chars: int = 100) -> list[str]:
    """Cleaned, de-duplicated (case-insensitively, first spelling kept) labels in their order."""
    if isinstance(raw, str):
        values: list[Any] = _LIST_SEPARATORS.split(raw[: _MAX_LIST_ITEMS * max_chars])
    elif isinstance(raw, list | tuple):
        values = list(raw[:_MAX_LIST_ITEMS])
    else:
        values = []
    labels: dict[str, str] = {}
    for value in values:
        if isinstance(value, Mapping | list | tuple | set | bool):
            continue
        label = _clean_line(value, max_chars)
        if label:
            labels.setdefault(label.casefold(), label)
    return list(labels.values())


def _clean_names(raw: Any, max_chars: int = SHORT_TEXT_MAX_CHARS) -> str | None:
    """A provider or institution; several are joined with ", "."""
    if isinstance(raw, list | tuple):
        return ", ".join(_clean_list(raw, max_chars)) or None
    if isinstance(raw, Mapping):  # JSON-LD {"@type": "Organization", "name": ...}
        return _clean_line(raw.get("name"), max_chars)
    return _clean_line(raw, max_chars)


def _clean_url(raw: Any) -> str | None:
    text = _short(raw, URL_MAX_CHARS)
    if text is None:
        return None
    return text if _URL.fullmatch(text) else None


def is_search_url(url: str | None) -> bool:
    """Whether a course's URL is a search at its provider rather than the course's own page: the
    Coursera datasets give `coursera.org/search?query=<title>` for every course."""
    if not url:
        return False
    parts = urlsplit(url)
    return parts.path.rstrip("/").endswith("/search") or "query=" in parts.query


def title_slug(title: str) -> str:
    """A title as the last segment of a course page's URL: "Python for Everybody" → "python-for-everybody"."""
    return re.sub(r"[^a-z0-9]+", "-", title.casefold()).strip("-")


def _raw_text(raw: Any) -> str | None:
    """The raw value as text for the *_raw columns; containers as JSON."""
    if _is_missing(raw):
        return None
    if isinstance(raw, Mapping | list | tuple | set):
        return json.dumps(_json_safe(raw), ensure_ascii=False, sort_keys=True)[:1000]
    return str(raw)[:2000].strip()[:1000]


def normalise_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """The catalogue fields of one raw crawl item (the Course fields of crawlers/items.py).

    Returns exactly ITEM_KEYS. Never raises on bad values: a value that cannot be read becomes None
    (an empty list for skills_declared, {} for extras). name is cleaned to one line of at most
    NAME_MAX_CHARS (and title-cased when it came all in lower case), description with clean_text;
    in_language falls back to detection on name + description. When the source names no credential
    but prices a certificate (edX "FREE-Add a Verified Certificate for $49 USD"), credential is
    "certificate" with credential_raw None.

    extras is the spider's own extras (made JSON-safe) plus, where the spider did not set them:
    weekly_hours, enrollments (parsed), subjects (cleaned), date_modified. certificate_price is the
    certificate's price of a free-audit+paid-certificate offer ("... Certificate for $49 USD" → 49).
    """
    if not isinstance(item, Mapping):
        item = {}
    name = _clean_line(item.get("name"), NAME_MAX_CHARS)
    if name and is_lowercased_title(name):
        name = title_case(name)
    description = separate_sentences(clean_text(item.get("description"))) or None
    duration = parse_duration(item.get("duration"), item.get("weeks"), item.get("hours"))
    offer = parse_offer(item.get("price"), item.get("currency"), item.get("is_free"))
    credential = normalise_credential(item.get("credential"))
    if credential.kind is None and credential.raw is None and offer.certificate_price is not None:
        credential = Credential("certificate", None)
    detection_text = "\n".join(t for t in (name, description) if t) or None

    raw_extras = item.get("extras")
    if isinstance(raw_extras, Mapping):
        extras = _json_safe(raw_extras)
    else:
        extras = {} if _is_missing(raw_extras) else {"extras": _json_safe(raw_extras)}
    derived = {
        "weekly_hours": duration.weekly_hours,
        "enrollments": parse_count(item.get("enrollments")),
        "subjects": _clean_list(item.get("subjects")),
        "date_modified": _short(item.get("date_modified"), 100),
    }
    for key, value in derived.items():
        if value is not None and value != []:
            extras.setdefault(key, value)

    return {
        "name": name,
        "description": description,
        "provider": _clean_names(item.get("provider")),
        "institution": _clean_names(item.get("institution")),
        "url": _clean_url(item.get("url")),
        "in_language": normalise_language(item.get("in_language"), text=detection_text),
        "level": normalise_level(item.get("level")),
        "hours": duration.hours,
        "duration_raw": duration.raw,
        "course_mode": normalise_course_mode(item.get("course_mode")),
        "credential": credential.kind,
        "credential_raw": credential.raw,
        "price": offer.price,
        "currency": offer.currency,
        "access_model": offer.access_model,
        "certificate_price": offer.certificate_price,
        "price_raw": _raw_text(item.get("price")),
        "rating": parse_rating(item.get("rating")),
        "rating_count": parse_count(item.get("rating_count")),
        "skills_declared": _clean_list(item.get("skills_declared")),
        "extras": extras,
    }
