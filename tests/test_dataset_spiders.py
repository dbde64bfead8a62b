"""The dataset spiders on their real CSV files from tests/captures, and the CSV base they share."""

from __future__ import annotations

import pytest
from scrapy import Spider
from scrapy.http import TextResponse
from scrapy.statscollectors import StatsCollector
from scrapy.utils.test import get_crawler

from crawlers.dataset_spider import CsvDatasetSpider, slugify, to_number
from crawlers.items import Course
from crawlers.spiders.classcentral_data_science import ClasscentralDataScienceSpider
from crawlers.spiders.coursera_kaggle_2020 import CourseraKaggle2020Spider
from crawlers.spiders.coursera_skills_2024 import CourseraSkills2024Spider
from crawlers.spiders.edx_kaggle_2020 import EdxKaggle2020Spider
from crawlers.spiders.udemy_kaggle_2017 import UdemyKaggle2017Spider


def run_spider(spider_cls: type[Spider], response: TextResponse, **spider_args) -> tuple[list[Course], StatsCollector]:
    crawler = get_crawler(spider_cls)
    spider = spider_cls.from_crawler(crawler, **spider_args)
    return list(spider.parse(response)), crawler.stats


def crawl_mirror_file(spider_cls, mirror_response, **spider_args) -> tuple[dict[str, Course], StatsCollector]:
    """Items by provider_ref, from the spider's callback on its captured dataset."""
    items, stats = run_spider(spider_cls, mirror_response(spider_cls.start_urls[0]), **spider_args)
    by_ref = {item["provider_ref"]: item for item in items}
    assert len(by_ref) == len(items), "provider_ref must be unique within a source"
    return by_ref, stats


def test_coursera_skills_2024(mirror_response):
    courses, stats = crawl_mirror_file(CourseraSkills2024Spider, mirror_response)
    # 3,404 rows; a course listed under several subjects (or with stray spaces in its title) repeats.
    assert stats.get_value("skillstack/rows/read") == 3404
    assert stats.get_value("skillstack/rows/duplicate") == 643
    assert len(courses) == 2761
    excel = courses["getting-started-with-microsoft-excel--coursera-project-network--guided-project"]
    assert excel["name"] == "Getting Started with Microsoft Excel"
    assert excel["institution"] == "Coursera Project Network"
    assert excel["level"] == "Intermediate"
    assert excel["credential"] == "Guided Project"
    assert excel["duration"] == "Less Than 2 Hours"
    assert excel["skills_declared"] == [
        "Microsoft Excel",
        "Excel Formulas",
        "Spreadsheet Software",
        "Data Entry",
        "Microsoft 365",
    ]
    assert excel["rating"] == 4.6
    assert excel["rating_count"] == 11000
    assert excel["subjects"] == ["Business"]
    assert excel["url"] == "https://www.coursera.org/search?query=Getting+Started+with+Microsoft+Excel"
    assert "extras" not in excel  # every column is mapped


def test_coursera_skills_2024_merges_a_course_listed_under_two_subjects(mirror_response):
    courses, _ = crawl_mirror_file(CourseraSkills2024Spider, mirror_response)
    assert courses["what-is-data-science--ibm--course"]["subjects"] == ["Data Science", "Information Technology"]
    # Same institution, titles that differ only by a symbol: two courses.
    assert courses["c-plus-plus-class-development--university-of-colorado-system--course"]["name"] == (
        "C++ Class Development"
    )
    assert courses["c-sharp-class-development--university-of-colorado-system--course"]["name"] == "C# Class Development"
    # Same title at two institutions: two courses.
    assert courses["financial-markets--yale-university--course"]["rating_count"] == 30000
    assert courses["financial-markets--universita-di-napoli-federico-ii--specialization"]["level"] == "Intermediate"


def test_coursera_kaggle_2020(mirror_response):
    courses, stats = crawl_mirror_file(CourseraKaggle2020Spider, mirror_response)
    assert len(courses) == 891
    assert not stats.get_value("skillstack/rows/duplicate")
    sscp = courses["isc-2-systems-security-certified-practitioner-sscp--isc-2--specialization"]
    assert sscp["name"] == "(ISC)² Systems Security Certified Practitioner (SSCP)"
    assert sscp["institution"] == "(ISC)²"
    assert sscp["credential"] == "SPECIALIZATION"
    assert sscp["rating"] == 4.7
    assert sscp["level"] == "Beginner"
    assert sscp["enrollments"] == "5.3k"
    assert sscp["extras"] == {"column_1": "134"}
    assert courses["machine-learning--stanford-university--course"]["enrollments"] == "3200k"
    assert courses["machine-learning--university-of-washington--specialization"]["credential"] == "SPECIALIZATION"


def test_edx_kaggle_2020(mirror_response):
    courses, stats = crawl_mirror_file(EdxKaggle2020Spider, mirror_response)
    assert stats.get_value("skillstack/rows/read") == 975
    assert stats.get_value("skillstack/rows/duplicate") == 1  # introduction-to-probability, twice
    assert len(courses) == 974
    online = courses["how-to-learn-online"]
    assert online["name"] == "How to Learn Online"
    assert online["url"] == "https://www.edx.org/course/how-to-learn-online"
    assert online["price"] == "FREE-Add a Verified Certificate for $49 USD"
    assert online["duration"] == "2–3 hours per week"
    assert online["weeks"] == "2 Weeks"
    assert online["level"] == "Introductory"
    assert online["institution"] == "edX"
    assert online["course_mode"] == "Self-paced on your time"
    assert online["in_language"] == "English"
    assert online["subjects"] == ["Education & Teacher Training"]
    assert online["enrollments"] == 124980
    assert online["description"].startswith("Designed for those who are new to elearning")
    assert online["extras"]["instructors"] == "Nina Huntemann-Robyn Belair-Ben Piscopo"
    assert online["extras"]["summary"] == "Learn essential strategies for successful online learning"


def test_edx_kaggle_2020_gaps(mirror_response):
    courses, _ = crawl_mirror_file(EdxKaggle2020Spider, mirror_response)
    # No description in the file: the one-line summary stands in.
    assert courses["bitcoin-and-cryptocurrencies"]["description"] == "This course is part of a Professional Certificate"
    # "NA" enrolments are left unset, not kept as text.
    assert "enrollments" not in courses["english-grammar-and-style"]


def test_udemy_kaggle_2017(mirror_response):
    courses, stats = crawl_mirror_file(UdemyKaggle2017Spider, mirror_response)
    assert stats.get_value("skillstack/rows/duplicate") == 6
    assert len(courses) == 3672
    banking = courses["1070968"]
    assert banking["name"] == "Ultimate Investment Banking Course"
    assert banking["url"] == "https://www.udemy.com/ultimate-investment-banking-course/"
    assert banking["price"] == 200
    assert banking["is_free"] is False
    assert banking["level"] == "All Levels"
    assert banking["hours"] == 1.5
    assert banking["enrollments"] == 2147
    assert banking["rating_count"] == 23
    assert banking["subjects"] == ["Business Finance"]
    assert banking["extras"] == {"is_paid": "True", "num_lectures": "51", "published_timestamp": "2017-01-18T20:58:58Z"}
    options = courses["1148774"]
    assert options["name"] == "Options Trading 101: The Basics"
    assert (options["price"], options["is_free"], options["hours"]) == (0, True, 0.55)


def test_classcentral_data_science(mirror_response):
    courses, _ = crawl_mirror_file(ClasscentralDataScienceSpider, mirror_response)
    assert len(courses) == 2069
    causal = courses["9097"]
    assert causal["name"] == "Causal Diagrams: Draw Your Assumptions Before Your Conclusions"
    assert causal["provider"] == "edX"
    assert causal["url"] == (
        "https://www.classcentral.com/course/edx-causal-diagrams-draw-your-assumptions-before-your-conclusions-9097"
    )
    assert "institution" not in causal
    assert courses["2733"]["provider"] == "Coursera"
    assert courses["34103"]["in_language"] == "Spanish"
    assert {course["provider"] for course in courses.values()} >= {"Coursera", "Udemy", "edX", "Pluralsight"}


def test_limit_stops_after_that_many_items(mirror_response):
    items, _ = run_spider(UdemyKaggle2017Spider, mirror_response(UdemyKaggle2017Spider.start_urls[0]), limit="20")
    assert [item["provider_ref"] for item in items[:2]] == ["1070968", "1113822"]
    assert len(items) == 20


# ---------------------------------------------------------------- the CSV base


class TinyDatasetSpider(CsvDatasetSpider):
    name = "tiny_dataset"
    start_urls = ["https://example.org/tiny.csv"]
    provider = "Example"
    column_map = {"provider_ref": "id", "name": "title", "url": "link", "skills_declared": "skills", "rating": "stars"}
    list_fields = ("skills_declared",)


TINY_CSV = """id,title,link,skills,stars,notes
1,Intro to SQL,https://example.org/1,"SQL, Databases",4.5,first
2,Python,https://example.org/2,Python,NA,
1,Intro to SQL,https://example.org/1,"SQL, Data Modeling",4.5,repeated with one more skill
3,Too many cells,https://example.org/3,X,4.0,a,b
4,"Multi-line
title",https://example.org/4,,five stars,
"""


def tiny_response(text: str = TINY_CSV) -> TextResponse:
    return TextResponse(TinyDatasetSpider.start_urls[0], body=text.encode("utf-8"), encoding="utf-8")


def test_base_maps_columns_and_keeps_the_rest_in_extras():
    items, _ = run_spider(TinyDatasetSpider, tiny_response())
    first = items[0]
    assert dict(first) == {
        "provider_ref": "1",
        "name": "Intro to SQL",
        "url": "https://example.org/1",
        "skills_declared": ["SQL", "Databases", "Data Modeling"],
        "rating": 4.5,
        "extras": {"notes": "first"},
    }


def test_base_leaves_null_markers_unset_and_keeps_text_that_is_not_a_number():
    items, _ = run_spider(TinyDatasetSpider, tiny_response())
    by_ref = {item["provider_ref"]: item for item in items}
    assert "rating" not in by_ref["2"]
    assert "extras" not in by_ref["2"]
    assert by_ref["4"]["rating"] == "five stars"  # kept raw; the validation pipeline counts it invalid
    assert by_ref["4"]["name"] == "Multi-line\ntitle"


def test_base_counts_duplicates_and_malformed_rows():
    items, stats = run_spider(TinyDatasetSpider, tiny_response())
    assert [item["provider_ref"] for item in items] == ["1", "2", "4"]
    assert stats.get_value("skillstack/rows/read") == 5
    assert stats.get_value("skillstack/rows/duplicate") == 1
    assert stats.get_value("skillstack/rows/malformed") == 1


def test_base_builds_a_reference_from_fields_when_no_column_holds_one():
    class NoIdSpider(TinyDatasetSpider):
        name = "no_id"
        column_map = {"name": "title", "url": "link"}

    items, _ = run_spider(NoIdSpider, tiny_response())
    assert [item["provider_ref"] for item in items] == ["intro-to-sql", "python", "multi-line-title"]


def test_base_hook_can_skip_a_row():
    class SkipPythonSpider(TinyDatasetSpider):
        name = "skip_python"

        def parse_row(self, row, item):
            return None if row["title"] == "Python" else item

    items, stats = run_spider(SkipPythonSpider, tiny_response())
    assert [item["provider_ref"] for item in items] == ["1", "4"]
    assert stats.get_value("skillstack/rows/skipped") == 1


def test_base_on_a_header_only_file():
    items, _ = run_spider(TinyDatasetSpider, tiny_response("id,title,link,skills,stars\n"))
    assert items == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Getting Started with Microsoft Excel", "getting-started-with-microsoft-excel"),
        ("Università Bocconi", "universita-bocconi"),
        ("C++ Class Development", "c-plus-plus-class-development"),
        ("Programming with C#", "programming-with-c-sharp"),
        ("Business Analysis & Process Management", "business-analysis-and-process-management"),
        ("  What is Data Science? ", "what-is-data-science"),
        ("数据结构与算法", "数据结构与算法"),
    ],
)
def test_slugify(text, expected):
    assert slugify(text) == expected


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [("11000", int, 11000), ("124,980", int, 124980), ("4.6", float, 4.6), ("5.3k", int, "5.3k"), ("1.5", int, "1.5")],
)
def test_to_number(text, kind, expected):
    assert to_number(text, kind) == expected
