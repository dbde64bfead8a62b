"""pipeline.normalise on the real raw values of the mirror's sources, and on hostile ones.

Strings quoted here are copied exactly from the captured files in tests/captures (edX, Udemy and
Coursera dataset CSVs, the API captures, the Udemy JSON-LD pages); the last tests run
normalise_item over every row of three dataset CSVs and check the coverage measured on them.

One module though over 600 lines: it follows `pipeline.normalise` field family by field family (a
section each, in the package's order) on the same captured values, then `normalise_item`, which
reads them all.
"""

from __future__ import annotations

import collections
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from crawlers.items import Course
from crawlers.spiders.alison import AlisonSpider
from crawlers.spiders.edx_catalog import EdxCatalogSpider
from crawlers.spiders.futurelearn import FuturelearnSpider
from crawlers.spiders.futurelearn_2020 import Futurelearn2020Spider
from crawlers.spiders.iversity import IversitySpider
from crawlers.spiders.mitxonline import MitxonlineSpider
from crawlers.spiders.mslearn import MslearnSpider
from crawlers.spiders.skillshare_2024 import Skillshare2024Spider
from crawlers.spiders.udacity import UdacitySpider
from crawlers.spiders.udemy_pages import UdemyPagesSpider
from pipeline.normalise import (
    ACCESS_MODELS,
    COURSE_MODES,
    CREDENTIAL_KINDS,
    ITEM_KEYS,
    LEVELS,
    Duration,
    Offer,
    clean_text,
    detect_language,
    normalise_course_mode,
    normalise_credential,
    normalise_item,
    normalise_language,
    normalise_level,
    parse_count,
    parse_duration,
    parse_offer,
    parse_rating,
    title_case,
)
from pipeline.normalise import text as normalise_text
from tests.helpers import (
    B2B,
    MELODY,
    MIRROR_DIR,
    POWER_BI,
    crawl_capture,
    crawl_mirror_file,
    linkedin_learning_items,
    parse_one,
)

MIRROR = MIRROR_DIR
GITHUB = MIRROR / "raw.githubusercontent.com"
EDX_CSV = GITHUB / "KopecT/udemy-vs-edx/fb76bf4c2a3a4edd2901751246fa61f12e0e3b64/edx_courses.csv"
UDEMY_CSV = GITHUB / "KopecT/udemy-vs-edx/fb76bf4c2a3a4edd2901751246fa61f12e0e3b64/udemy_courses.csv"
COURSERA_CSV = (
    GITHUB / "clumsycoder42525/Learning_Management_System" / "4d7eeb30852a0cdedf0f3e60bcc259ac78cb2ee4/Coursera.csv"
)
FUTURELEARN_FEED = MIRROR / "www.futurelearn.com/feeds/courses"

USD_EDX = "FREE-Add a Verified Certificate for $49 USD"
AUDIT = "free-audit+paid-certificate"


# ---------------------------------------------------------------- offers


@pytest.mark.parametrize(
    ("price", "currency", "is_free", "expected"),
    [
        # edX dataset: free to audit, the verified certificate is paid.
        (USD_EDX, None, None, Offer(0.0, "USD", AUDIT, 49.0)),
        ("FREE-Add a Verified Certificate for $299.70 USD", None, None, Offer(0.0, "USD", AUDIT, 299.7)),
        ("FREE-Add a Verified Certificate for $49.99 USD", None, None, Offer(0.0, "USD", AUDIT, 49.99)),
        # Udemy dataset: price is a number, is_paid the flag (inverted into is_free by the spider).
        (0, None, True, Offer(0.0, None, "free", None)),
        (200, None, False, Offer(200.0, None, "paid", None)),
        # Udemy pages: the price meta tag and the page's currency; "Free" with isAccessibleForFree.
        ("$199.99", "USD", False, Offer(199.99, "USD", "paid", None)),
        ("Free", None, True, Offer(0.0, None, "free", None)),
        # real.discount JSON-LD: lowPrice "$0" with isAccessibleForFree "true" (a coupon).
        ("$0", None, "true", Offer(0.0, "USD", "free", None)),
        # edX catalog spider: the verified seat's price beside a free audit seat.
        (150.0, "USD", True, Offer(0.0, "USD", AUDIT, 150.0)),
        # iversity: the cheapest paid track, with a free audit track.
        ("49 €", None, True, Offer(0.0, "EUR", AUDIT, 49.0)),
        # MIT xPRO: a paid course, no audit.
        (999.0, "USD", None, Offer(999.0, "USD", "paid", None)),
        ("$49", None, None, Offer(49.0, "USD", "paid", None)),
        ("€1,234.50", None, None, Offer(1234.5, "EUR", "paid", None)),
        ("1.234,50 €", None, None, Offer(1234.5, "EUR", "paid", None)),
        ("49,99 €", None, None, Offer(49.99, "EUR", "paid", None)),
        ("¥1,234", None, None, Offer(1234.0, "JPY", "paid", None)),
        ("CN¥99", None, None, Offer(99.0, "CNY", "paid", None)),
        ("$49 CAD", None, None, Offer(49.0, "CAD", "paid", None)),
        ("R$ 1.234,56", None, None, Offer(1234.56, "BRL", "paid", None)),
        ("$49", "eur", None, Offer(49.0, "EUR", "paid", None)),  # the explicit currency wins
        ("Free", None, None, Offer(0.0, None, "free", None)),
        ("0.00", "USD", None, Offer(0.0, "USD", "free", None)),
        ("subscription", None, None, Offer(None, None, "subscription", None)),
        ("$39 per month", None, None, Offer(39.0, "USD", "subscription", None)),
        ("7-day free trial, then $39/month", None, None, Offer(39.0, "USD", "subscription", None)),
        ("50% off $99", None, None, Offer(99.0, "USD", "paid", None)),
        ("Paid", None, None, Offer(None, None, "paid", None)),
        # Structured prices.
        ({"min_price": 123, "max_price": 456}, "USD", None, Offer(0.0, "USD", AUDIT, 456.0)),
        ({"min_price": None, "max_price": 456}, None, None, Offer(0.0, None, AUDIT, 456.0)),
        (
            [{"type": "audit", "price": "0.00"}, {"type": "verified", "price": "49.00", "currency": "USD"}],
            None,
            None,
            Offer(0.0, "USD", AUDIT, 49.0),
        ),
        (
            [
                {"type": "verified", "price": "150.00", "currency": "USD"},
                {"type": "audit", "price": "0.00", "currency": "USD"},
            ],
            None,
            None,
            Offer(0.0, "USD", AUDIT, 150.0),
        ),
        (
            [{"type": "professional", "price": "300.00", "currency": "USD"}],
            None,
            None,
            Offer(300.0, "USD", "paid", None),
        ),
        (
            [
                {"title": "Audit Track", "price": None, "credits": None},
                {"title": "ECTS-Track", "price": "149 €", "credits": None},
                {"title": "Certificate Track", "price": "49 €", "credits": None},
            ],
            None,
            None,
            Offer(0.0, "EUR", AUDIT, 49.0),
        ),
        (
            {"amount": 19.99, "currency": "USD", "price_string": "$19.99", "currency_symbol": "$"},
            None,
            None,
            Offer(19.99, "USD", "paid", None),
        ),
        ({"@type": "Offer", "price": "44.99", "priceCurrency": "USD"}, None, None, Offer(44.99, "USD", "paid", None)),
        (
            {"lowPrice": "$0", "highPrice": "$29.99", "isAccessibleForFree": "true"},
            None,
            None,
            Offer(0.0, "USD", "free"),
        ),
        # Hostile: nothing, negative, absurd, not a price at all.
        (None, None, None, Offer()),
        ("", None, None, Offer()),
        (float("nan"), None, None, Offer()),
        (float("inf"), None, None, Offer()),
        (-5, None, None, Offer()),
        ("-49", None, None, Offer()),
        ("-$49", None, None, Offer(None, "USD", None, None)),
        ("$99999999", None, None, Offer(None, "USD", None, None)),
        (1e12, None, None, Offer()),
        (True, None, None, Offer()),
        ([], None, None, Offer()),
        ({}, None, None, Offer()),
        ("¥99,999,999", None, None, Offer(99999999.0, "JPY", "paid", None)),  # yen run high: still plausible
        ("-5", None, True, Offer(0.0, None, "free", None)),  # the flag still says how to get in
    ],
)
def test_parse_offer(price, currency, is_free, expected):
    assert parse_offer(price, currency, is_free) == expected


def test_every_edx_price_text_is_free_audit_with_a_paid_certificate():
    prices = pd.read_csv(EDX_CSV)["price"].unique()
    assert len(prices) == 47
    for text in prices:
        offer = parse_offer(text)
        amount = float(text.removeprefix("FREE-Add a Verified Certificate for $").removesuffix(" USD"))
        assert offer == Offer(0.0, "USD", AUDIT, amount), text


# ---------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("kwargs", "hours", "weekly"),
    [
        # edX dataset: effort per week × length.
        ({"duration": "2–3 hours per week", "weeks": "6 Weeks"}, 15.0, 2.5),
        ({"duration": "8–10 hours per week", "weeks": "1 Weeks"}, 9.0, 9.0),
        ({"duration": "20–28 hours per week", "weeks": "17 Weeks"}, 408.0, 24.0),
        # Coursera 2024 dataset: calendar buckets at 10 h/week, "less than" at 0.75 of the bound.
        ({"duration": "Less Than 2 Hours"}, 1.5, None),
        ({"duration": "1 - 4 Weeks"}, 25.0, None),
        ({"duration": "1 - 3 Months"}, 86.96, None),
        ({"duration": "3 - 6 Months"}, 195.67, None),
        # MITx Online, MIT xPRO, Coursera API, edX catalog/RSS, FutureLearn, Udacity.
        ({"duration": "7 hrs/wk", "weeks": "14 weeks"}, 98.0, 7.0),
        ({"duration": "5-8 hours per week", "weeks": "11 weeks"}, 71.5, 6.5),
        ({"duration": "5-7 Hours per Week", "weeks": "3-4 Weeks"}, 21.0, 6.0),
        ({"duration": "5-10 hours/week"}, None, 7.5),
        ({"duration": "10-15 hours/week", "weeks": "13 weeks"}, 162.5, 12.5),
        ({"duration": "4 hours per week", "weeks": 7}, 28.0, 4.0),
        ({"weeks": "3 months"}, 130.45, None),
        # Udemy: JSON-LD courseWorkload, API content_info, dataset content_duration.
        ({"duration": "PT2H44M"}, 2.73, None),
        ({"duration": "PT4H30M"}, 4.5, None),
        ({"duration": "8 total hours"}, 8.0, None),
        ({"hours": 1.5}, 1.5, None),
        ({"hours": 78.5}, 78.5, None),
        # MS Learn: minutes and hours as numbers (or numeric strings).
        ({"minutes": 62}, 1.03, None),
        ({"minutes": 450}, 7.5, None),
        ({"hours": "72"}, 72.0, None),
        ({"duration": "45 minutes"}, 0.75, None),
        ({"duration": "1h 30m"}, 1.5, None),
        # Skillshare datasets, LinkedIn Learning 2021, FutureLearn 2020.
        ({"duration": "1h 19m"}, 1.32, None),
        ({"duration": "55m"}, 0.92, None),
        ({"duration": "12h 5m"}, 12.08, None),
        ({"duration": "134m"}, 2.23, None),
        ({"duration": "4 hrs/week", "weeks": "4 weeks"}, 16.0, 4.0),
        ({"duration": "1 hrs/week", "weeks": "6 weeks"}, 6.0, 1.0),
        ({"duration": "0 hrs/week", "weeks": "2 weeks"}, None, None),  # one FutureLearn 2020 course
        ({"duration": "P2W"}, 20.0, None),  # a calendar length, like "2 weeks"
        ({"duration": "3 weeks at 6 hours a week"}, 18.0, 6.0),
        ({"duration": "more than 10 hours"}, 12.5, None),
        ({"duration": "2 hours", "hours": 3}, 3.0, None),  # the number wins over the text
        # Hostile.
        ({"duration": "3 to 1 hours"}, 2.0, None),  # reversed range, read in order
        ({"duration": "7-5 hours per week", "weeks": 13}, 78.0, 6.0),  # edX catalog min_effort 7 > max_effort 5
        ({"duration": ""}, None, None),
        ({}, None, None),
        ({"hours": 0.0}, None, None),  # one Udemy row: content_duration 0
        ({"hours": -3}, None, None),
        ({"hours": 1e9}, None, None),
        ({"hours": float("nan")}, None, None),
        ({"hours": True}, None, None),
        ({"duration": "99999999 hours"}, None, None),
        ({"duration": "200 hours per week", "weeks": "2 weeks"}, None, None),
        ({"duration": "14"}, None, None),  # no unit
        ({"duration": ["2 hours"]}, None, None),
        ({"duration": "x" * 10_000_000}, None, None),
    ],
)
def test_parse_duration(kwargs, hours, weekly):
    duration = parse_duration(**kwargs)
    assert (duration.hours, duration.weekly_hours) == (hours, weekly)


def test_duration_raw_joins_the_given_values():
    assert parse_duration("2–3 hours per week", "6 Weeks") == Duration(15.0, 2.5, "2–3 hours per week, 6 Weeks")
    assert parse_duration(hours=1.5).raw == "1.5 hours"
    assert parse_duration(minutes=45).raw == "45 minutes"
    assert parse_duration().raw is None


def test_every_edx_effort_and_length_gives_hours():
    edx = pd.read_csv(EDX_CSV)
    pairs = edx[["course_effort", "course_length"]].drop_duplicates()
    for effort, length in pairs.itertuples(index=False):
        duration = parse_duration(effort, length)
        low, high = (float(n) for n in effort.removesuffix(" hours per week").split("–"))
        assert duration.weekly_hours == (low + high) / 2, effort
        assert duration.hours == round((low + high) / 2 * float(length.split()[0]), 2), (effort, length)


# ---------------------------------------------------------------- level, mode, credential


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Introductory", "beginner"),  # edX
        ("Intermediate", "intermediate"),
        ("Advanced", "advanced"),
        ("All Levels", "mixed"),  # Udemy
        ("Beginner Level", "beginner"),
        ("Intermediate Level", "intermediate"),
        ("Expert Level", "advanced"),
        ("Beginner", "beginner"),  # Coursera
        ("Mixed", "mixed"),
        ("beginner", "beginner"),  # MS Learn, Udacity
        ("beginner, intermediate", "mixed"),
        (["beginner", "intermediate"], "mixed"),
        ("beginner-intermediate", "mixed"),
        ("Intermediate/Advanced", "mixed"),
        ("Undergraduate", "intermediate"),  # MIT OpenCourseWare
        ("Graduate", "advanced"),
        ("Undergraduate, High School", "mixed"),
        ("Beginner ", "beginner"),  # LinkedIn Learning 2021, with the cells' trailing space
        ("Beginner + Intermediate ", "mixed"),
        ("General ", "mixed"),
        ("Advanced ", "advanced"),
        ("General Chemistry", None),
        ("", None),
        (None, None),
        (float("nan"), None),
        (3, None),
        ("Level 3", None),
    ],
)
def test_normalise_level(raw, expected):
    assert normalise_level(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Self-paced on your time", "self-paced"),  # edX dataset
        ("Instructor-led on a course schedule", "scheduled"),
        ("instructor_paced", "scheduled"),  # edX catalog pacing_type
        ("self_paced", "self-paced"),
        ("anytime", "self-paced"),  # MITx Online availability
        ("dated", "scheduled"),
        ("v2.ondemand", "self-paced"),  # Coursera courseType
        ("v1.session", "scheduled"),
        ("scheduled", "scheduled"),
        (True, "self-paced"),  # MITx Online is_self_paced
        (False, "scheduled"),
        ("Online", None),  # Udemy JSON-LD courseMode: delivery, not pacing
        ("Updated self-paced", "self-paced"),
        ("", None),
        (None, None),
    ],
)
def test_normalise_course_mode(raw, expected):
    assert normalise_course_mode(raw) == expected


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("COURSE", "certificate"),  # Coursera 2020: a course certificate for paying learners
        ("SPECIALIZATION", "specialization"),
        ("PROFESSIONAL CERTIFICATE", "professional certificate"),
        ("Course", "certificate"),  # Coursera 2024 Learning Product
        ("Specialization", "specialization"),
        ("Professional Certificate", "professional certificate"),
        ("Guided Project", "guided project"),
        ("Project", "guided project"),
        ("MicroMasters", "program"),  # edX programs
        ("XSeries", "program"),
        ("Professional Certificate Program", "professional certificate"),
        ("Degree", "degree"),
        ("Master of Computer Science", "degree"),
        ("MasterTrack", "program"),
        ("Nanodegree", "program"),
        ("verified", "certificate"),  # edX seat type
        ("VerifiedCert", "certificate"),  # Coursera API certificates
        ("Certificate of Completion", "certificate"),  # MITx Online
        ("Certificate Track", "certificate"),  # iversity
        ("Statement of Participation", "certificate"),
        ("role-based certification", "certificate"),  # MS Learn
        ("badge", "badge"),
        ("Audit Track", "none"),
        ("No certificate", "none"),
        (True, "certificate"),  # Udemy has_certificate
        (False, "none"),
        ("Digital Business", None),  # MIT Sloan: the certificate's subject, not its kind
        (None, None),
        ("", None),
    ],
)
def test_normalise_credential(raw, kind):
    credential = normalise_credential(raw)
    assert credential.kind == kind
    assert credential.kind is None or credential.kind in CREDENTIAL_KINDS
    assert credential.raw == (None if raw in (None, "") else str(raw))


# ---------------------------------------------------------------- language


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # edX dataset
        ("English", "en"),
        ("Español", "es"),
        ("Français", "fr"),
        ("Italiano", "it"),
        ("中文", "zh"),
        ("Português", "pt"),
        ("日本語", "ja"),
        ("اللغة العربية", "ar"),
        ("Deutsch", "de"),
        # Class Central
        ("Spanish", "es"),
        ("Russian", "ru"),
        ("Turkish", "tr"),
        ("Thai", "th"),
        ("Korean", "ko"),
        ("Estonian", "et"),
        # iversity, Udemy API, edX catalog, JSON-LD, Coursera API
        ("German", "de"),
        ({"locale": "en_US", "title": "English (US)"}, "en"),
        ("English (US)", "en"),
        ("en-us", "en"),
        ("en-US", "en"),
        ("en_US", "en"),
        (["en"], "en"),
        (["en", "fr"], "en"),
        ("zh-Hans", "zh"),
        ("Chinese (Simplified)", "zh"),
        ("eng", "en"),
        ("iw", "he"),
        ("Klingon", None),
        ("und", None),
        ("", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_normalise_language(raw, expected):
    assert normalise_language(raw) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # iversity subtitle, as captured (entities and all).
        (
            "Das Wort Apps ist in aller Munde. Aber wie funktioniert eine solche Applikation? Und wie kann man "
            "Computer-Programme selbst schreiben? Dieser Kurs vermittelt die Grundlage der Informatik und "
            "f&uuml;hrt in die Programmiersprache Java ein.",
            "de",
        ),
        (
            "Designed for those who are new to elearning, this course will prepare you with strategies to be a "
            "successful online learner.",
            "en",
        ),
        (
            "يقدم هذا المساق مقدمة شاملة في علم البيانات، ويشرح كيفية جمع البيانات وتحليلها وعرضها باستخدام أدوات "
            "حديثة. وفي نهاية المساق سيتمكن المتعلم من بناء نماذج بسيطة للتعلم الآلي.",
            "ar",
        ),
        ("הקורס מציג מבוא מקיף למדעי הנתונים ומסביר כיצד לאסוף, לנתח ולהציג נתונים בעזרת כלים מודרניים.", "he"),
        # A short English title is English (core.language); too little text is no guess.
        ("Python for Everybody", "en"),
        ("Machine Learning", "en"),
        ("🙂🙂🙂", None),
        ("12345 67890", None),
        ("", None),
    ],
)
def test_language_detected_from_text_when_the_field_is_empty(text, expected):
    assert normalise_language(None, text=clean_text(text)) == expected
    assert normalise_language("", text=clean_text(text)) == expected


def test_a_named_language_is_never_overridden_by_detection():
    assert normalise_language("Español", text="This course is entirely in English, with English subtitles.") == "es"
    assert detect_language(None) is None


# ---------------------------------------------------------------- text


def test_clean_text_on_the_real_futurelearn_html_description():
    [course] = json.loads(FUTURELEARN_FEED.read_text(encoding="utf-8"))
    text = clean_text(course["description"])
    assert text.startswith("Programming is everywhere: in dishwashers, cars and even space shuttles.")
    assert "<p>" not in text
    assert "<a" not in text
    assert "School of Systems Engineering" in text  # link text kept, markup gone
    assert "Whether you’re a complete newcomer" in text  # curly quote kept
    assert text.count("\n") == 4  # five paragraphs, one per line


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<p>Hi <b>there</b></p><script>alert(1)</script><p>Next</p>", "Hi there\nNext"),
        ("<script>alert(1)</script>", ""),  # dropped with its content
        ("<style>p { color: red }</style>Text", "Text"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),  # escaped: shown as text
        ("Universit&auml;t Osnabr&uuml;ck", "Universität Osnabrück"),  # iversity organisation
        ("&amp;lt;b&amp;gt;", "&lt;b&gt;"),  # entities are decoded once only
        ("vector<int> and a<b", "vector<int> and a<b"),  # not HTML: left alone
        ("The courseâ€™s content", "The course’s content"),  # mojibake repaired
        ("Ã©tÃ©", "été"),
        ("🙂 emoji 👩\u200d💻 ok", "🙂 emoji 👩\u200d💻 ok"),  # emoji and the zero-width joiner kept
        ("مرحبا بالعالم", "مرحبا بالعالم"),
        ("\u200fשלום עולם", "\u200fשלום עולם"),  # RTL mark kept
        ("<ul><li>one</li><li>two</li></ul>", "one\ntwo"),
        ("<table><tr><td>a</td><td>b</td></tr></table>", "a b"),
        ("  lots   of\n\n\n space  ", "lots of\nspace"),
        ("x\x00y\x07z\ufeff", "xyz"),
        ("\ud800bad", "bad"),
        ("<!-- only a comment -->", ""),
        ("<?xml version='1.0' encoding='UTF-8'?><p>hi</p>", "hi"),
        (b"bytes \xc3\xa9", "bytes é"),
        (42, "42"),
        (None, ""),
        (float("nan"), ""),
        ({"a": 1}, ""),
    ],
)
def test_clean_text(raw, expected):
    assert clean_text(raw) == expected


def test_clean_text_caps_at_a_word_boundary():
    assert clean_text("word " * 10, max_chars=12) == "word word"
    assert clean_text("abcdefghijklmnop", max_chars=5) == "abcde"
    assert clean_text("anything", max_chars=0) == ""


@pytest.mark.parametrize(
    "big",
    [
        pytest.param(lambda html: (html * (10_000_000 // len(html) + 1))[:10_000_000], id="10MB-html"),
        pytest.param(lambda html: "word " * 2_000_000, id="10MB-plain"),
        pytest.param(lambda html: "<p>a" * 2_500_000, id="10MB-tags"),
        pytest.param(lambda html: "Ã©" * 5_000_000, id="10MB-mojibake"),
    ],
)
def test_clean_text_on_10mb_reads_a_bounded_prefix_and_is_capped(big, monkeypatch):
    """Its cost is bounded by what it reads: no step (HTML parse, whitespace, mojibake repair) is
    handed more than 10 x max_chars of a 10 MB input, whatever its shape."""
    [course] = json.loads(FUTURELEARN_FEED.read_text(encoding="utf-8"))
    raw = big(course["description"])
    assert len(raw) >= 10_000_000
    handed: list[int] = []

    def spy(step):
        def counted(text, *args, **kwargs):
            handed.append(len(text))
            return step(text, *args, **kwargs)

        return counted

    for step in ("_html_to_text", "_fold_whitespace"):
        monkeypatch.setattr(normalise_text, step, spy(getattr(normalise_text, step)))
    monkeypatch.setattr(normalise_text.ftfy, "fix_and_explain", spy(normalise_text.ftfy.fix_and_explain))
    text = clean_text(raw)
    assert handed
    assert max(handed) <= 10 * 20_000
    assert 19_900 <= len(text) <= 20_000


# ---------------------------------------------------------------- counts and ratings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5.3k", 5300),  # Coursera 2020 enrolled
        ("1.5m", 1_500_000),
        ("2.5m", 2_500_000),
        ("124,980", 124_980),  # edX n_enrolled
        ("133,422 students", 133_422),  # Skillshare
        ("815", 815),  # Alison, Indian digit grouping from a lakh on
        ("23,385", 23_385),
        ("1,67,409", 167_409),
        ("2,17,998", 217_998),
        ("12,34,567", 1_234_567),
        (6100, 6100),  # Coursera 2024 Reviews
        (6100.0, 6100),
        ("6100.0", 6100),
        ("1.2m", 1_200_000),
        ("12K+ students", 12_000),
        ("1,2k", 1200),
        ("1.234", 1234),
        ("-5", None),
        (-5, None),
        (1e20, None),
        ("abc", None),
        (None, None),
        (True, None),
        (float("nan"), None),
    ],
)
def test_parse_count(raw, expected):
    assert parse_count(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4.5", 4.5),  # Udemy JSON-LD ratingValue
        (4.4, 4.4),  # Coursera 2024 Rate
        (4.8421173, 4.842),  # Udemy API rating
        ("4,6", 4.6),
        ("4.6 out of 5", 4.6),
        ("9.2/10", 4.6),
        ("5", 5.0),
        (0, None),
        (5.1, None),
        (-1, None),
        ("-4", None),
        ("abc", None),
        (None, None),
        (float("nan"), None),
        (True, None),
    ],
)
def test_parse_rating(raw, expected):
    assert parse_rating(raw) == expected


# ---------------------------------------------------------------- normalise_item


def test_normalise_item_on_the_first_edx_row():
    row = pd.read_csv(EDX_CSV).iloc[0]
    item = normalise_item(edx_item(row.to_dict()))
    assert set(item) == set(ITEM_KEYS)
    assert item == {
        "name": "How to Learn Online",
        "description": item["description"],
        "provider": "edX",
        "institution": "edX",
        "url": "https://www.edx.org/course/how-to-learn-online",
        "in_language": "en",
        "level": "beginner",
        "hours": 5.0,
        "duration_raw": "2–3 hours per week, 2 Weeks",
        "course_mode": "self-paced",
        "credential": "certificate",
        "credential_raw": None,
        "price": 0.0,
        "currency": "USD",
        "access_model": "free-audit+paid-certificate",
        "certificate_price": 49.0,
        "price_raw": USD_EDX,
        "rating": None,
        "rating_count": None,
        "skills_declared": [],
        "extras": {
            "weekly_hours": 2.5,
            "enrollments": 124_980,
            "subjects": ["Education & Teacher Training"],
        },
    }
    assert item["description"].startswith("Designed for those who are new to elearning")
    # The dataset glued its paragraphs together ("online learner.The edX"); the normaliser separates them.
    assert "successful online learner. The edX learning design team" in item["description"]


def test_normalise_item_cleans_lists_and_keeps_the_spiders_extras():
    item = normalise_item(
        {
            "name": "  <b>Excel</b>\n Skills  ",
            "skills_declared": "Microsoft Excel, Excel Formulas, Spreadsheet Software, microsoft excel, , Data Entry",
            "subjects": ["Business", "Business", ""],
            "extras": {"enrollments": "spider's own", "nan": float("nan"), "when": object},
            "enrollments": "5.3k",
            "price": [{"type": "audit", "price": "0.00"}],
            "provider": {"@type": "Organization", "name": "Udemy"},
            "institution": ["University of Pennsylvania", "Wharton"],
            "url": "javascript:alert(1)",
        }
    )
    assert item["name"] == "Excel Skills"
    assert item["skills_declared"] == ["Microsoft Excel", "Excel Formulas", "Spreadsheet Software", "Data Entry"]
    assert item["extras"]["subjects"] == ["Business"]
    assert item["extras"]["enrollments"] == "spider's own"  # never overridden
    assert item["extras"]["nan"] is None
    assert item["provider"] == "Udemy"
    assert item["institution"] == "University of Pennsylvania, Wharton"
    assert item["url"] is None
    assert item["price_raw"] == '[{"price": "0.00", "type": "audit"}]'
    assert item["access_model"] == "free"
    json.dumps(item["extras"])


def test_normalise_item_caps_the_name_and_cleans_a_10mb_description():
    item = normalise_item({"name": "N" * 5_000, "description": "<p>🙂 عربي עברית " * 700_000})
    assert len(item["name"]) == 500
    assert len(item["description"]) <= 20_000
    assert item["description"].startswith("🙂 عربي עברית")


HOSTILE_VALUES = [
    None,
    "",
    "   ",
    float("nan"),
    float("inf"),
    -1,
    0,
    10**30,
    True,
    [],
    {},
    [None, {}],
    {"a": {"b": [object()]}},
    object(),
    b"\xff\xfe",
    "¥1,234",
    "3 to 1 hours",
    "\x00\ud800\ufeff",
    "<script>alert(1)</script>",
    "x" * 200_000,
]


@pytest.mark.parametrize("field", sorted(Course.fields))
def test_normalise_item_never_raises(field):
    for value in HOSTILE_VALUES:
        item = normalise_item({field: value})
        assert list(item) == list(ITEM_KEYS)
        assert item["hours"] is None or (isinstance(item["hours"], float) and math.isfinite(item["hours"]))
        assert item["access_model"] in (None, *ACCESS_MODELS)
        assert item["level"] in (None, *LEVELS)
        assert item["course_mode"] in (None, *COURSE_MODES)
        assert item["credential"] in (None, *CREDENTIAL_KINDS)
        assert isinstance(item["skills_declared"], list)
        json.dumps(item["extras"])
    assert normalise_item(None) == normalise_item({})  # type: ignore[arg-type]


# ---------------------------------------------------------------- items as the spiders yield them


def normalised_capture(spider_cls, mirror_response) -> dict[str, dict]:
    courses, _, _ = crawl_capture(spider_cls, mirror_response)
    return {ref: normalise_item(dict(course)) for ref, course in courses.items()}


def pick(item: dict, *keys: str) -> tuple:
    return tuple(item[key] for key in keys)


OFFER_KEYS = ("price", "currency", "access_model")


def test_api_spider_items_normalise(mirror_response):
    edx = normalised_capture(EdxCatalogSpider, mirror_response)["MITx+15.071x"]
    assert pick(edx, *OFFER_KEYS) == (0.0, "USD", AUDIT)  # verified seat $150 beside a free audit seat
    assert edx["certificate_price"] == 150.0
    assert pick(edx, "hours", "level", "course_mode", "credential", "in_language") == (
        162.5, "intermediate", "scheduled", "certificate", "en",
    )  # fmt: skip
    mitx = normalised_capture(MitxonlineSpider, mirror_response)
    assert pick(mitx["course-v1:MITxT+18.03.1x"], *OFFER_KEYS, "hours") == (0.0, "USD", AUDIT, 98.0)
    assert mitx["course-v1:MITxT+18.03.2x"]["course_mode"] == "self-paced"  # availability "anytime"
    [iversity] = normalised_capture(IversitySpider, mirror_response).values()
    assert pick(iversity, *OFFER_KEYS, "in_language", "level") == (0.0, "EUR", AUDIT, "de", "beginner")
    assert iversity["institution"] == "Universität Osnabrück"  # "Universit&auml;t Osnabr&uuml;ck"
    [futurelearn] = normalised_capture(FuturelearnSpider, mirror_response).values()
    assert pick(futurelearn, "hours", "credential", "in_language") == (28.0, "certificate", "en")
    assert "<p>" not in futurelearn["description"]
    mslearn = normalised_capture(MslearnSpider, mirror_response)
    assert mslearn["learn.create-serverless-applications"]["hours"] == 7.5  # 450 minutes
    assert mslearn["learn.create-serverless-applications"]["level"] == "mixed"  # beginner + intermediate
    [udacity] = normalised_capture(UdacitySpider, mirror_response).values()
    assert udacity["hours"] == 130.45  # "3 months" at 10 h/week


def test_udemy_page_items_normalise(mirror_response):
    paid = normalise_item(dict(parse_one(UdemyPagesSpider, mirror_response(B2B))))
    assert pick(paid, *OFFER_KEYS, "rating", "rating_count") == (199.99, "USD", "paid", 4.5, 341)
    free = normalise_item(dict(parse_one(UdemyPagesSpider, mirror_response(POWER_BI))))
    assert pick(free, *OFFER_KEYS) == (0.0, None, "free")
    melody = normalise_item(dict(parse_one(UdemyPagesSpider, mirror_response(MELODY))))
    assert pick(melody, "hours", "course_mode") == (2.73, None)  # PT2H44M; courseMode "Online"


# ---------------------------------------------------------------- every row of three real datasets


def rows(csv: Path) -> list[dict]:
    """Rows as dicts, with pandas' NaN for empty cells turned back into None."""
    return [
        {key: (None if isinstance(value, float) and math.isnan(value) else value) for key, value in row.items()}
        for row in pd.read_csv(csv).to_dict("records")
    ]


def edx_item(row: dict) -> dict:
    return {
        "name": row["title"],
        "description": row["course_description"] or row["summary"],
        "provider": "edX",
        "institution": row["institution"],
        "url": row["course_url"],
        "in_language": row["language"],
        "level": row["Level"],
        "duration": row["course_effort"],
        "weeks": row["course_length"],
        "course_mode": row["course_type"],
        "price": row["price"],
        "enrollments": row["n_enrolled"],
        "subjects": [row["subject"]],
    }


def udemy_item(row: dict) -> dict:
    # As the udemy_kaggle_2017 spider yields it: the dataset names no currency.
    return {
        "name": row["course_title"],
        "provider": "Udemy",
        "url": row["url"],
        "level": row["level"],
        "hours": row["content_duration"],
        "price": row["price"],
        "is_free": not row["is_paid"],
        "rating_count": row["num_reviews"],
        "enrollments": row["num_subscribers"],
        "subjects": [row["subject"]],
    }


def coursera_item(row: dict) -> dict:
    return {
        "name": row["Title"],
        "provider": "Coursera",
        "institution": row["Institution"],
        "level": row["Level"],
        "duration": row["Duration"],
        "credential": row["Learning Product"],
        "rating": row["Rate"],
        "rating_count": row["Reviews"],
        "skills_declared": row["Gained Skills"],
        "subjects": [row["Subject"]],
    }


@pytest.fixture(scope="module")
def normalised() -> dict[str, list[dict]]:
    return {
        "edx": [normalise_item(edx_item(row)) for row in rows(EDX_CSV)],
        "udemy": [normalise_item(udemy_item(row)) for row in rows(UDEMY_CSV)],
        "coursera": [normalise_item(coursera_item(row)) for row in rows(COURSERA_CSV)],
    }


def share(items: list[dict], key: str) -> float:
    return sum(item[key] not in (None, [], {}) for item in items) / len(items)


def counts(items: list[dict], key: str) -> dict:
    return dict(collections.Counter(item[key] for item in items))


def test_every_edx_row(normalised):
    edx = normalised["edx"]
    assert len(edx) == 975
    # Every row has effort, length, price, level, language and pacing, and all of them are read.
    for key in ("name", "url", "hours", "access_model", "price", "currency", "level", "in_language", "course_mode"):
        assert share(edx, key) == 1.0, key
    assert share(edx, "description") >= 0.973  # 26 rows have neither description nor summary
    assert counts(edx, "access_model") == {"free-audit+paid-certificate": 975}
    assert counts(edx, "credential") == {"certificate": 975}  # from the priced certificate
    assert counts(edx, "level") == {"beginner": 621, "intermediate": 267, "advanced": 87}
    assert counts(edx, "course_mode") == {"self-paced": 917, "scheduled": 58}
    assert counts(edx, "in_language") == {
        "en": 777, "es": 176, "fr": 7, "it": 4, "zh": 4, "pt": 4, "ja": 1, "ar": 1, "de": 1,
    }  # fmt: skip
    hours = sorted(item["hours"] for item in edx)
    assert (hours[0], hours[len(hours) // 2], hours[-1]) == (1.5, 24.5, 225.0)
    assert sum(item["extras"].get("enrollments") is not None for item in edx) == 855  # 120 empty n_enrolled


def test_every_udemy_row(normalised):
    udemy = normalised["udemy"]
    assert len(udemy) == 3678
    for key in ("name", "url", "access_model", "price", "level", "rating_count"):
        assert share(udemy, key) == 1.0, key
    assert sum(item["hours"] is not None for item in udemy) == 3677  # one course has content_duration 0
    assert counts(udemy, "access_model") == {"paid": 3368, "free": 310}
    assert counts(udemy, "level") == {"mixed": 1929, "beginner": 1270, "intermediate": 421, "advanced": 58}
    assert counts(udemy, "currency") == {None: 3678}
    # No language column: detected from the title alone (core.language); 14 titles stay unknown
    # (mixed, or a Spanish title with no word only Spanish uses).
    languages = counts(udemy, "in_language")
    top = (languages["en"], languages["es"], languages["pt"], languages["ja"], languages[None])
    assert top == (3359, 143, 49, 33, 14)
    assert udemy[[i["name"] for i in udemy].index("Mit Finanzwissen zu besserem Unternehmertum")]["in_language"] == "de"


def test_every_coursera_2024_row(normalised):
    coursera = normalised["coursera"]
    assert len(coursera) == 3404
    for key in ("name", "institution", "hours", "level", "credential", "rating", "rating_count", "skills_declared"):
        assert share(coursera, key) == 1.0, key
    assert counts(coursera, "credential") == {
        "certificate": 2553, "specialization": 568, "guided project": 162, "professional certificate": 121,
    }  # fmt: skip
    assert counts(coursera, "level") == {"beginner": 1741, "intermediate": 1148, "mixed": 370, "advanced": 145}
    assert counts(coursera, "hours") == {25.0: 1415, 86.96: 1237, 195.67: 590, 1.5: 162}
    assert coursera[0]["skills_declared"][:3] == ["Process Analysis", "Business Process", "Business Analysis"]
    assert coursera[0]["rating_count"] == 6100
    # No language column and no description: the language of 3,401 of 3,404 rows comes from the title.
    assert counts(coursera, "in_language") == {
        "en": 3220, "es": 81, "fr": 41, "pt": 27, "zh": 15, "ru": 5, "ar": 5, "de": 4, None: 3, "ja": 3,
    }  # fmt: skip


# ---------------------------------------------------------------- titles that lost their case


@pytest.mark.parametrize(
    ("lowercased", "expected"),
    [
        # Alison's titles, as its dataset gives them.
        ("comptia cloud advanced", "CompTIA Cloud Advanced"),
        (
            "itil 4 fundamentals essentials of it service management",
            "ITIL 4 Fundamentals Essentials of IT Service Management",
        ),
        (
            "interconnecting cisco networking devices part 2 icnd2 v3 ccna",
            "Interconnecting Cisco Networking Devices Part 2 ICND2 V3 CCNA",
        ),
        (
            "anti money laundering and customer verification training",
            "Anti Money Laundering and Customer Verification Training",
        ),
        ("caregiving skills dementia care revised", "Caregiving Skills Dementia Care Revised"),
        ("introduction to the electrical trade revised", "Introduction to the Electrical Trade Revised"),
        ("the basics of wordpress and html5", "The Basics of WordPress and HTML5"),
        ("e-commerce with chatgpt", "E-Commerce with ChatGPT"),
        # An acronym after the words it abbreviates.
        ("person centred care pcc in nursing", "Person Centred Care PCC in Nursing"),
        ("advanced cardiac life support acls", "Advanced Cardiac Life Support ACLS"),
        ("bendrasis duomenu apsaugos reglamentas bdar", "Bendrasis Duomenu Apsaugos Reglamentas BDAR"),
        ("go to the zoo", "Go to the Zoo"),
    ],
)
def test_title_case(lowercased, expected):
    assert title_case(lowercased) == expected


def test_only_titles_that_lost_their_case_are_cased():
    assert normalise_item({"name": "comptia cloud advanced"})["name"] == "CompTIA Cloud Advanced"
    assert normalise_item({"name": "iPhone Photography"})["name"] == "iPhone Photography"  # its author's case
    assert normalise_item({"name": "数据结构与算法"})["name"] == "数据结构与算法"  # no case at all


def test_every_alison_row(mirror_response):
    courses, _ = crawl_mirror_file(AlisonSpider, mirror_response)
    alison = [normalise_item(item) for item in courses.values()]
    assert len(alison) == 4940
    for key in ("name", "url", "institution", "credential", "access_model", "description"):
        assert share(alison, key) == 1.0, key
    assert not [item["name"] for item in alison if item["name"] == item["name"].lower()]
    assert counts(alison, "access_model") == {"free": 4940}
    assert collections.Counter(item["credential_raw"] for item in alison) == {
        "Certification course": 4437, "Diploma course": 503,
    }  # fmt: skip
    assert counts(alison, "credential") == {"certificate": 4940}
    learners = [item["extras"]["enrollments"] for item in alison]
    assert None not in learners
    assert max(learners) == 686_652  # "6,86,652": lakh grouping read whole, not cut at a comma


def test_every_skillshare_2024_linkedin_learning_and_futurelearn_2020_row(mirror_response):
    skillshare = [normalise_item(item) for item in crawl_mirror_file(Skillshare2024Spider, mirror_response)[0].values()]
    assert sum(item["hours"] is None for item in skillshare) == 8  # "0m": no length to go by
    assert counts(skillshare, "access_model") == {"subscription": 14235}
    assert counts(skillshare, "credential") == {"none": 14235}
    assert all(item["extras"]["enrollments"] is not None for item in skillshare)
    linkedin = [normalise_item(item) for item in linkedin_learning_items(mirror_response)[0]]
    assert counts(linkedin, "level") == {"beginner": 19, "intermediate": 30, "mixed": 14, "advanced": 5}
    assert share(linkedin, "hours") == share(linkedin, "institution") == 1.0
    futurelearn = [
        normalise_item(item) for item in crawl_mirror_file(Futurelearn2020Spider, mirror_response)[0].values()
    ]
    assert sum(item["hours"] is not None for item in futurelearn) == 735  # one course: "0 hrs/week"
    assert counts(futurelearn, "access_model") == {None: 736}
