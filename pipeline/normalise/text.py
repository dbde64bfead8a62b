"""Text: descriptions cleaned of markup, mojibake and control characters; one-line labels (names,
providers, institutions, tags) and lists of them; titles that came all in lower case re-cased;
course URLs (whether a URL is a search rather than a course's page: `core.course_record`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

import ftfy
import lxml.html
from lxml import etree

from core.course_record import is_missing
from pipeline.normalise.scalars import _short

NAME_MAX_CHARS = 500
SHORT_TEXT_MAX_CHARS = 300
URL_MAX_CHARS = 2048


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
    if is_missing(raw) or max_chars <= 0:
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


# ------------------------------------------------------------------------------- lists and URLs

_LIST_SEPARATORS = re.compile(r"[,;|\n]")
_MAX_LIST_ITEMS = 200
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)


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


def title_slug(title: str) -> str:
    """A title as the last segment of a course page's URL: "Python for Everybody" → "python-for-everybody"."""
    return re.sub(r"[^a-z0-9]+", "-", title.casefold()).strip("-")
