"""The dataset spiders on their real CSV files from tests/captures, and the CSV base they share."""

from __future__ import annotations

import pytest
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from crawlers.dataset_spider import CsvDatasetSpider, XlsxDatasetSpider, slugify, to_number
from crawlers.spiders.alison import AlisonSpider
from crawlers.spiders.classcentral_data_science import ClasscentralDataScienceSpider
from crawlers.spiders.coursera_kaggle_2020 import CourseraKaggle2020Spider
from crawlers.spiders.coursera_skills_2024 import CourseraSkills2024Spider
from crawlers.spiders.edx_kaggle_2020 import EdxKaggle2020Spider
from crawlers.spiders.futurelearn_2020 import Futurelearn2020Spider
from crawlers.spiders.linkedin_learning_2021 import instructor_name
from crawlers.spiders.skillshare_2022 import Skillshare2022Spider
from crawlers.spiders.skillshare_2024 import Skillshare2024Spider
from crawlers.spiders.udemy_kaggle_2017 import UdemyKaggle2017Spider
from pipeline.normalise import normalise_item
from tests.helpers import crawl_mirror_file, linkedin_learning_items, run_spider


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


def test_skillshare_2024(mirror_response):
    classes, stats = crawl_mirror_file(Skillshare2024Spider, mirror_response)
    assert stats.get_value("skillstack/rows/read") == 14250
    assert stats.get_value("skillstack/rows/duplicate") == 15
    assert len(classes) == 14235
    dslr = classes["1111783378"]
    assert dslr["name"] == "Fundamentals of DSLR Photography"
    assert dslr["url"] == "https://www.skillshare.com/en/classes/Fundamentals-of-DSLR-Photography/1111783378"
    assert dslr["duration"] == "1h 19m"
    assert dslr["institution"] == "Photo Essentials x Justin Bridges"
    assert dslr["enrollments"] == "133,422 students"
    assert (dslr["credential"], dslr["price"]) == ("none", "Skillshare membership")
    record = normalise_item(dslr)
    assert (record["hours"], record["extras"]["enrollments"]) == (1.32, 133422)
    assert (record["provider"], record["institution"]) == (None, "Photo Essentials x Justin Bridges")
    assert (record["credential"], record["access_model"], record["price"]) == ("none", "subscription", None)


def test_skillshare_2022_reads_past_the_byte_order_mark_and_the_whitespace(mirror_response):
    response = mirror_response(Skillshare2022Spider.start_urls[0])
    assert response.body.startswith(b"\xef\xbb\xbfTitle,URL")
    classes, stats = crawl_mirror_file(Skillshare2022Spider, mirror_response)
    assert (stats.get_value("skillstack/rows/read"), len(classes)) == (1080, 1080)
    youtube = classes["1956780612"]
    assert youtube["name"] == "YouTube for Beginners - How to Start & Grow Your YouTube Channel"
    assert youtube["enrollments"] == "18,899 students"
    assert (youtube["duration"], youtube["institution"]) == ("4h 9m", "Ali Abdaal")
    # Cells holding a count and a label among lines of page whitespace.
    assert youtube["extras"]["lessons"] == 28
    assert youtube["extras"]["lessions count"] == "28 Lessons (4h 9m)"
    assert youtube["extras"]["student_projects"] == 238
    assert youtube["extras"]["review_tags"] == {
        "Engaging Teacher": 239,
        "Clarity of Instruction": 220,
        "Audio & Video Quality": 214,
    }
    # The column headed "quality" holds whichever tag came third.
    assert "Helpful Examples" in classes["647318269"]["extras"]["review_tags"]
    # "Beginner level" on every row, advanced classes too: not taken as the level.
    assert "level" not in youtube
    assert youtube["extras"]["level"] == "Beginner level"
    assert normalise_item(youtube)["hours"] == 4.15


def test_linkedin_learning_2021_reads_the_workbook_and_its_url_list(mirror_response):
    items, stats = linkedin_learning_items(mirror_response)
    # 91 rows, 23 of them a course already read: the 68 courses, each with its URL.
    assert stats.get_value("skillstack/rows/read") == 91
    assert stats.get_value("skillstack/rows/duplicate") == 23
    courses = {item["provider_ref"]: item for item in items}
    assert len(courses) == len(items) == 68
    assert all(item["url"].startswith("https://www.linkedin.com/learning/") for item in items)
    management = courses["database-foundations-database-management"]
    assert management["name"] == "Database Foundations: Database Management"  # "... Management " in the cell
    assert management["url"] == "https://www.linkedin.com/learning/database-foundations-database-management"
    assert (management["duration"], management["level"]) == ("134m", "Beginner")
    assert management["institution"] == "Adam Wilbert"
    assert management["description"].startswith("In the realm of relational databases, the table is the main event")
    assert management["extras"]["TOC"].startswith("Introduction Introduction Managing database performance 1m 2s")
    assert management["extras"]["Instructer"].startswith("Instructor Adam Wilbert LinkedIn Learning Instructor")
    record = normalise_item(management)
    assert (record["hours"], record["level"]) == (2.23, "beginner")
    assert (record["credential"], record["credential_raw"]) == ("certificate", "Certificate of completion")
    assert record["access_model"] == "subscription"
    roi = courses["predictive-analytics-essential-training-estimating-and-ensuring-roi"]
    assert (roi["level"], normalise_item(roi)["level"]) == ("Beginner + Intermediate", "mixed")
    highlights = courses["linkedin-learning-highlights-data-science-and-analytics"]
    assert (highlights["level"], normalise_item(highlights)["level"]) == ("General", "mixed")


def test_linkedin_learning_instructor_cards():
    card = "Instructor Adam Wilbert LinkedIn Learning Instructor and Lynda.com Author Adam Wilbert is a data"
    assert instructor_name(card) == "Adam Wilbert"
    assert instructor_name("Instructor John Johnson John H. Johnson is a professional economist") == "John Johnson"
    card = "Instructor Microsoft General Technical Skills The Microsoft General Technical Skills programs teach"
    assert instructor_name(card) == "Microsoft General Technical Skills"
    assert instructor_name("Instructors Jim Stice Accounting Professor at Brigham Young University Jim Stice is") == (
        "Jim Stice"
    )
    assert instructor_name("") is None


def test_alison(mirror_response):
    courses, stats = crawl_mirror_file(AlisonSpider, mirror_response)
    # A course listed under several categories repeats: 5,725 rows, 4,940 courses.
    assert stats.get_value("skillstack/rows/read") == 5725
    assert stats.get_value("skillstack/rows/duplicate") == 785
    assert len(courses) == 4940
    cloud = courses["comptia-cloud-advanced"]
    assert cloud["name"] == "comptia cloud advanced"
    assert cloud["institution"] == "Workforce Academy Partnership"
    assert cloud["enrollments"] == 23385
    assert cloud["url"] == "https://alison.com/course/comptia-cloud-advanced"
    assert cloud["credential"] == "Certification course"
    assert cloud["subjects"] == ["Information Technology"]
    record = normalise_item(cloud)
    assert record["name"] == "CompTIA Cloud Advanced"
    assert (record["credential"], record["access_model"], record["price"]) == ("certificate", "free", 0.0)
    # The course type written over "diploma" and "certificate" in titles and links, repaired.
    management = courses["diploma-in-information-technology-management-revised-2017"]
    assert management["name"] == "diploma in information technology management revised 2017"
    assert management["url"] == "https://alison.com/course/diploma-in-information-technology-management-revised-2017"
    assert management["enrollments"] == "1,76,709"  # Indian digit grouping
    record = normalise_item(management)
    assert record["name"] == "Diploma in Information Technology Management Revised 2017"
    assert record["extras"]["enrollments"] == 176709
    assert (record["credential"], record["credential_raw"]) == ("certificate", "Diploma course")
    leaving = courses["leaving-certificate-project-maths-higher-level"]
    assert normalise_item(leaving)["name"] == "Leaving Certificate Project Maths Higher Level"
    encrypt = courses["exploring-and-installing-let-s-encrypt-using-ssl-certificate"]
    assert normalise_item(encrypt)["name"] == "Exploring and Installing Let's Encrypt Using SSL Certificate"
    caregiving = courses["introduction-to-caregiving-revised"]
    assert (caregiving["enrollments"], caregiving["subjects"]) == ("2,17,998", ["health"])


def test_futurelearn_2020(mirror_response):
    courses, stats = crawl_mirror_file(Futurelearn2020Spider, mirror_response)
    assert (stats.get_value("skillstack/records/read"), len(courses)) == (736, 736)
    english = courses["basic-english-1-elementary"]
    assert english["name"] == "Basic English 1: Elementary"
    assert english["institution"] == "King's College London"
    assert english["url"] == "https://www.futurelearn.com/search?q=Basic+English+1%3A+Elementary"
    assert (english["duration"], english["weeks"]) == ("4 hrs/week", "4 weeks")
    record = normalise_item(english)
    assert (record["hours"], record["extras"]["weekly_hours"]) == (16.0, 4.0)
    assert (record["credential"], record["credential_raw"]) == ("certificate", "Certificate of Achievement")
    assert record["access_model"] is None  # the data states no price
    care = courses["covid-19-critical-care-understanding-and-application"]
    assert care["institution"] == "The University of Edinburgh & Royal College of Physicians of Edinburgh"
    assert normalise_item(care)["hours"] == 6.0  # 6 weeks at 1 hrs/week


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


def test_base_drops_a_byte_order_mark_before_the_first_header():
    text = "\ufeff" + TINY_CSV
    response = TextResponse(TinyDatasetSpider.start_urls[0], body=text.encode("utf-8"), encoding="latin-1")
    items, _ = run_spider(TinyDatasetSpider, response)
    assert items[0]["provider_ref"] == "1"


def test_base_applies_defaults_without_overriding_a_row():
    class WithDefaultsSpider(TinyDatasetSpider):
        name = "with_defaults"
        defaults = {"credential": "none", "rating": 1.0}

    items, _ = run_spider(WithDefaultsSpider, tiny_response())
    assert (items[0]["credential"], items[0]["rating"]) == ("none", 4.5)
    assert items[1]["rating"] == 1.0


class TinyWorkbookSpider(XlsxDatasetSpider):
    name = "tiny_workbook"
    start_urls = ["https://example.org/tiny.xlsx"]
    url_list = "https://example.org/tiny-urls.txt"
    column_map = {"name": "Title", "hours": "Hours", "url": "url"}


def tiny_workbook(rows: list[list]) -> bytes:
    import io

    import openpyxl

    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_base_reads_a_worksheet_with_the_rows_urls(caplog):
    from scrapy.http import Response

    body = tiny_workbook(
        [
            ["Title", "Hours"],
            ["Intro to SQL ", 2],
            [None, None],
            ["Python", "3.5"],
            ["Extra", 1, "stray"],
            ["No URL", 1],
        ]
    )
    crawler = get_crawler(TinyWorkbookSpider)
    spider = TinyWorkbookSpider.from_crawler(crawler)
    urls = TextResponse(TinyWorkbookSpider.url_list, body=b"https://example.org/1\nhttps://example.org/2\n\n")
    [request] = spider.parse_url_list(urls, dataset_url=TinyWorkbookSpider.start_urls[0])
    items = list(spider.parse(Response(request.url, body=body), **request.cb_kwargs))
    by_name = {item["name"]: item for item in items}
    assert by_name["Intro to SQL"] == {
        "name": "Intro to SQL",
        "hours": 2,
        "url": "https://example.org/1",
        "provider_ref": "intro-to-sql",
    }
    assert by_name["Python"]["hours"] == 3.5
    # A row past the end of the URL list has no URL (the validation pipeline drops and counts it).
    assert "url" not in by_name["No URL"]
    # A value in a column without a header is kept under its position, as in a CSV.
    assert by_name["Extra"]["extras"] == {"column_3": "stray"}
    assert crawler.stats.get_value("skillstack/rows/read") == 4
    assert f"has 4 rows but its URL list {TinyWorkbookSpider.url_list} has 2 lines" in caplog.text


def test_xlsx_base_on_a_file_that_is_not_a_workbook(caplog):
    from scrapy.http import Response

    items, _ = run_spider(TinyWorkbookSpider, Response(TinyWorkbookSpider.start_urls[0], body=b"id,title\n1,x\n"))
    assert items == []
    assert "is not a readable workbook" in caplog.text

    class OtherSheetSpider(TinyWorkbookSpider):
        name = "other_sheet"
        sheet = "Courses"

    body = tiny_workbook([["Title", "Hours"], ["Intro to SQL", 2]])
    assert run_spider(OtherSheetSpider, Response(OtherSheetSpider.start_urls[0], body=body))[0] == []
    assert "has no sheet 'Courses': ['Sheet']" in caplog.text
