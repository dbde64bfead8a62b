"""How the catalogue's facts read on screen, as text that is never HTML or Markdown.

Scraped text (titles, descriptions, providers, durations, prices as listed) is shown through `md()`
(every Markdown special character escaped) or plain-text elements (dataframe cells), tooltips
(`help=`) included, since Streamlit renders those as Markdown too; nothing here allows HTML.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from recommender import api

# ---------------------------------------------------------------- text and links from scraped data

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^\"'])")
# Where GitHub-flavoured Markdown makes a link of bare text, escapes or not: "https://…", "www.…"
# and e-mail addresses. A zero-width space there keeps the text as it reads and makes no link.
_AUTOLINK_STARTS = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)


def md(text: object) -> str:
    """`text` as Markdown that displays exactly these characters: every special character escaped, so
    `<script>` shows as typed and `:red[...]`, `$...$` or `[a](b)` are not interpreted, and no URL or
    address in it becomes a link. The one function every scraped string goes through, tooltips too."""
    text = _AUTOLINK_STARTS.sub("\u200b", re.sub(r"\s+", " ", str(text)))
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def safe_url(url: str | None) -> str | None:
    """The URL when it is an http(s) link, else None (a `javascript:` link from a page is never a button)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def money(amount: float | None, currency: str | None) -> str:
    if amount is None:
        return "–"
    number = f"{amount:,.2f}".removesuffix(".00")
    if currency in _SYMBOLS:
        return _SYMBOLS[currency] + number
    return number + (f" {currency}" if currency else "")


def price_text(
    course: api.CourseResult | api.CourseDetail | api.Listing, certificate_price: float | None = None
) -> str:
    """The offer as the source states it: "free", "free to audit · certificate $199", "$49.99",
    "subscription", or "price not stated" when the source says nothing about it."""
    access = course.access_model
    if access == "free-audit+paid-certificate":
        return "free to audit" + (
            f" · certificate {money(certificate_price, course.currency)}"
            if certificate_price
            else " · paid certificate"
        )
    if access == "free" or (course.price == 0 and access in (None, "paid")):
        return "free"
    if access == "subscription":
        return "subscription" + (f" {money(course.price, course.currency)}" if course.price else "")
    if course.price:
        return money(course.price, course.currency)
    return "price not stated"


def rating_text(rating: float | None, count: int | None) -> str | None:
    if rating is None:
        return None
    return f"★ {rating:.1f}" + (f" ({count:,} ratings)" if count else "")


def duration_as_stated(duration_raw: str | None) -> str | None:
    """The provider's own words for the length, tidied ("1 - 3 Months" → "1–3 months")."""
    if not duration_raw:
        return None
    return re.sub(r"(?<=\d)\s*-\s*(?=\d)", "–", " ".join(duration_raw.split())).lower()


def hours_text(hours: float | None, facts: api.CourseFacts | None = None) -> str | None:
    """Hours as shown everywhere: the provider's own duration first, and our hours marked as an
    estimate when they were worked out from it ("1–3 months (≈ 87 h, estimated)")."""
    stated = duration_as_stated(facts.duration_raw) if facts else None
    if not hours:
        return stated
    shown = f"{api.round_hours(hours):g} h"
    if facts is None or not facts.hours_estimated:
        return shown
    return f"{stated} (≈ {shown}, estimated)" if stated else f"≈ {shown} (estimated)"


def facts_age(as_of: str | None) -> str | None:
    """ "as of 2020 (about 6 years ago)": how old a course's facts are, from its source's data date."""
    if not as_of:
        return None
    try:
        year = int(as_of[:4])
    except ValueError:
        return f"as of {as_of}"
    years = datetime.now().year - year
    if years <= 0:
        return f"as of {as_of}"
    return f"as of {as_of} (about {years} year{'s' if years > 1 else ''} old)"


def language_text(tag: str | None) -> str | None:
    return api.language_name(tag)


# ---------------------------------------------------------------- the view state, shared through the URL
