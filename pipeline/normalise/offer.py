"""Offers: a price, its currency and the access model (free, free audit with a paid certificate,
paid, subscription), and a certificate's price, from a number, a text, a mapping or a list of seats.

"$" is US dollars and "¥" is Japanese yen unless the text names another ISO code ("CA$", "CN¥",
"$49 CAD"); an explicit `currency` argument wins over anything in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.course_record import is_missing
from pipeline.normalise.scalars import _as_bool, _as_number, _parse_number, _short

ACCESS_MODELS = ("free", "free-audit+paid-certificate", "paid", "subscription")

# Sanity bounds: anything beyond them is a parsing accident or a hostile value, not a course.
MAX_PRICE = 100_000.0  # online master's degrees stay below it
MAX_PRICE_HIGH_NOMINAL = 100_000_000.0  # for currencies whose unit is worth far less than a dollar


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
        if not is_missing(value):
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
