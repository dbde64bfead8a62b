"""De-duplication on the real overlapping records of the mirror's datasets.

The two Coursera datasets (Kaggle 2020, skills 2024) share a few hundred courses, Class Central
lists Coursera and edX courses without naming the institution, and edX and Coursera each have a
course called "Introduction to Data Science". Records are made the way the build makes them: the
spider's callback on the captured CSV, the spider defaults, then the pipeline's normaliser.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from scrapy.utils.test import get_crawler

from core import embed
from crawlers.pipelines.apply_spider_defaults import ApplySpiderDefaultsPipeline
from crawlers.spiders.classcentral_data_science import ClasscentralDataScienceSpider
from crawlers.spiders.coursera_kaggle_2020 import CourseraKaggle2020Spider
from crawlers.spiders.coursera_skills_2024 import CourseraSkills2024Spider
from crawlers.spiders.edx_kaggle_2020 import EdxKaggle2020Spider
from crawlers.spiders.futurelearn import FuturelearnSpider
from crawlers.spiders.futurelearn_2020 import Futurelearn2020Spider
from crawlers.spiders.linkedin_learning_2021 import LinkedinLearning2021Spider
from crawlers.spiders.skillshare_2022 import Skillshare2022Spider
from crawlers.spiders.skillshare_2024 import Skillshare2024Spider
from pipeline import dedupe
from pipeline.build import embedding_text
from pipeline.normalise import normalise_item
from tests.helpers import mirror_response_for

SEEN = datetime(2026, 11, 1)
SPIDERS = (CourseraKaggle2020Spider, CourseraSkills2024Spider, ClasscentralDataScienceSpider, EdxKaggle2020Spider)
# The sources Class Central's LinkedIn Learning, Skillshare and FutureLearn listings may join.
PLATFORM_SPIDERS = (
    Skillshare2024Spider,
    Skillshare2022Spider,
    LinkedinLearning2021Spider,
    Futurelearn2020Spider,
    FuturelearnSpider,
)


def records_of(spider_cls) -> list[dict]:
    crawler = get_crawler(spider_cls)
    crawler.spider = spider_cls.from_crawler(crawler)
    defaults = ApplySpiderDefaultsPipeline(crawler)
    records = []
    for item in items_of(crawler.spider):
        raw = dict(defaults.process_item(item))
        record = normalise_item(raw)
        record.update(id=raw["id"], source=raw["source"], provider=record.get("provider") or raw["source"])
        record.update(status="active", first_seen=SEEN, last_seen=SEEN)
        records.append(record)
    return records


def items_of(spider):
    """The spider's items from its captures, its URL list first when it has one (LinkedIn Learning's)."""
    dataset = mirror_response_for(spider.start_urls[0])
    if not getattr(spider, "url_list", None):
        return spider.parse(dataset)
    [request] = spider.parse_url_list(mirror_response_for(spider.url_list), dataset_url=dataset.url)
    return spider.parse(dataset, **request.cb_kwargs)


@pytest.fixture(scope="module")
def records() -> dict[str, list[dict]]:
    return {spider.name: records_of(spider) for spider in SPIDERS}


@pytest.fixture(scope="module")
def platform_records() -> dict[str, list[dict]]:
    return {spider.name: records_of(spider) for spider in PLATFORM_SPIDERS}


class CountingVectors:
    """The build's tie-breaker vectors: the real model on each record's embedded text; counts its calls."""

    def __init__(self) -> None:
        self.records = 0

    def __call__(self, records) -> np.ndarray:
        self.records += len(records)
        return embed.encode_documents([embedding_text(record) for record in records])


def group_of(grouping: dedupe.Grouping, record_id: str) -> list[dict]:
    [group] = [group for group in grouping.groups if any(r["id"] == record_id for r in group)]
    return group


def test_keys_fold_what_does_not_change_a_course():
    assert dedupe.title_key("Data-driven Decision Making") == dedupe.title_key("Data-Driven  Decision-Making")
    folded = dedupe.title_key("finance and accounting fundamental")
    assert dedupe.title_key("Finance & Accounting Fundamentals") == folded
    assert dedupe.title_key("Excel Skills for Business: Intermediate I") != dedupe.title_key(
        "Excel Skills for Business: Intermediate II"
    )
    assert dedupe.title_key("Python 2 Basics") != dedupe.title_key("Python 3 Basics")
    assert dedupe.institution_key("University of Illinois at Urbana-Champaign") == dedupe.institution_key(
        "University of Illinois Urbana-Champaign"
    )
    assert dedupe.institution_key("deeplearning.ai") == dedupe.institution_key("DeepLearning.AI")
    london, goldsmiths, lbs = (
        dedupe.institution_key(name)
        for name in ("University of London", "Goldsmiths, University of London", "London Business School")
    )
    assert dedupe.same_institution(london, goldsmiths)
    assert not dedupe.same_institution(london, lbs)
    assert dedupe.institution_key("Multiple educators") == frozenset()


def test_the_two_coursera_datasets_share_a_few_hundred_courses(records):
    both = records["coursera_kaggle_2020"] + records["coursera_skills_2024"]
    vectors = CountingVectors()
    grouping = dedupe.group_records(both, vectors)
    assert dict(grouping.merged_pairs) == {"coursera_kaggle_2020 + coursera_skills_2024": 381}
    assert grouping.merged_records == 381
    assert len(grouping.groups) == len(both) - 381 == 891 + 2761 - 381
    # A course is grouped with at most one record of each source.
    assert all(len({r["source"] for r in group}) == len(group) for group in grouping.groups)
    # Both institutions named everywhere: no tie to break, nothing embedded.
    assert (grouping.ambiguous, vectors.records) == (0, 0)

    diagnosis = group_of(grouping, "coursera_kaggle_2020/ai-for-medical-diagnosis--deeplearning-ai--course")
    assert [r["source"] for r in diagnosis] == ["coursera_skills_2024", "coursera_kaggle_2020"]
    merged = dedupe.merge_group(diagnosis)
    # The newer dataset ranks first: its spelling of the institution, its id; the older one's
    # values fill only what the newer one lacks.
    assert merged["institution"] == "DeepLearning.AI"
    assert merged["id"] == diagnosis[0]["id"]

    intermediate_one = [r for r in both if r["name"] == "Excel Skills for Business: Intermediate I"]
    intermediate_two = [r for r in both if r["name"] == "Excel Skills for Business: Intermediate II"]
    assert len(intermediate_one) == len(intermediate_two) == 2
    assert group_of(grouping, intermediate_one[0]["id"]) != group_of(grouping, intermediate_two[0]["id"])


def test_one_title_taught_by_several_institutions_stays_several_courses(records):
    both = records["coursera_kaggle_2020"] + records["coursera_skills_2024"]
    grouping = dedupe.group_records(both, CountingVectors())
    analytics = [group for group in grouping.groups if group[0]["name"] == "Business Analytics"]
    institutions = sorted(sorted({r["institution"] for r in group}) for group in analytics)
    assert institutions == [
        ["Campus BBVA"],
        ["University of Illinois Urbana-Champaign"],
        ["University of Pennsylvania"],
    ]
    penn = next(group for group in analytics if group[0]["institution"] == "University of Pennsylvania")
    assert sorted(r["source"] for r in penn) == ["coursera_kaggle_2020", "coursera_skills_2024"]


def test_never_merged_across_providers(records):
    everything = [record for source_records in records.values() for record in source_records]
    grouping = dedupe.group_records(everything, CountingVectors())
    assert all(len({r["provider"] for r in group}) == 1 for group in grouping.groups)
    named = [group for group in grouping.groups if group[0]["name"] == "Introduction to Data Science"]
    assert sorted({group[0]["provider"] for group in named}) == ["Coursera", "edX"]


def test_class_central_joins_the_provider_course_and_ties_are_broken_or_left_apart(records):
    everything = [record for source_records in records.values() for record in source_records]
    vectors = CountingVectors()
    grouping = dedupe.group_records(everything, vectors)
    pairs = grouping.merged_pairs
    assert pairs["classcentral_data_science + coursera_skills_2024"] > 150
    assert pairs["classcentral_data_science + edx_kaggle_2020"] > 40
    assert pairs["coursera_kaggle_2020 + coursera_skills_2024"] == 381
    # Class Central names no institution: a title several institutions teach is a tie. Only those
    # records (and the courses they could join) were embedded, and some stayed apart.
    assert 0 < vectors.records < 400
    assert grouping.ambiguous > 0
    listed = [group for group in grouping.groups if any(r["source"] == "classcentral_data_science" for r in group)]
    # The listing site never provides the values when the provider's record has them.
    assert all(group[-1]["source"] == "classcentral_data_science" for group in listed)


def test_merged_values_come_from_the_best_record_that_has_them():
    api = {"id": "coursera_api/x", "source": "coursera_api", "provider": "Coursera", "name": "Deep Learning",
           "institution": "DeepLearning.AI", "price": None, "currency": None, "access_model": None,
           "price_raw": None, "hours": None, "duration_raw": None, "rating": None, "rating_count": None,
           "skills_declared": ["Neural Networks"], "description": "From the API.", "status": "active",
           "first_seen": datetime(2026, 11, 20), "last_seen": datetime(2026, 11, 28)}  # fmt: skip
    dataset = {**api, "id": "coursera_kaggle_2020/x", "source": "coursera_kaggle_2020", "price": 49.0,
               "currency": "USD", "access_model": "subscription", "price_raw": "$49/month", "rating": 4.8,
               "rating_count": 120000, "skills_declared": ["neural networks", "TensorFlow"],
               "description": "From a dataset.", "first_seen": datetime(2020, 1, 1),
               "last_seen": datetime(2026, 11, 28)}  # fmt: skip
    grouping = dedupe.group_records([dataset, api], CountingVectors())
    [group] = grouping.groups
    assert [r["source"] for r in group] == ["coursera_api", "coursera_kaggle_2020"]
    merged = dedupe.merge_group(group)
    assert merged["description"] == "From the API."
    assert (merged["price"], merged["currency"], merged["access_model"], merged["price_raw"]) == (
        49.0, "USD", "subscription", "$49/month",
    )  # fmt: skip
    assert (merged["rating"], merged["rating_count"]) == (4.8, 120000)
    assert merged["skills_declared"] == ["Neural Networks", "TensorFlow"]
    assert (merged["first_seen"], merged["status"], merged["id"]) == (datetime(2020, 1, 1), "active", "coursera_api/x")
    # A course keeps the id it was published under when a better source starts listing it.
    kept = "coursera_kaggle_2020/x"
    assert dedupe.course_ids([group], {kept: kept}) == [kept]
    # The API record gone from a complete crawl: the course stays active on the dataset's word,
    # with the dataset's values first.
    gone = dedupe.group_records([dataset, {**api, "status": "removed"}], CountingVectors()).groups[0]
    assert [r["source"] for r in gone] == ["coursera_kaggle_2020", "coursera_api"]
    assert dedupe.merge_group(gone)["status"] == "active"


def test_a_split_course_keeps_its_id_on_one_part_only():
    """Two records published as one course and grouped apart later: two courses, two ids.

    On the real mirror catalogue, Class Central's 8209 and edX's python-for-data-science-2 ("Python
    for Data Science") were one course; a later build that grouped them apart gave both the old id
    and failed on the courses table's primary key.
    """
    edx = {"id": "edx_kaggle_2020/python-for-data-science-2"}
    classcentral = {"id": "classcentral_data_science/8209"}
    previous = {edx["id"]: edx["id"], classcentral["id"]: edx["id"]}
    # The part holding the namesake record keeps the id, whichever order the groups come in.
    assert dedupe.course_ids([[classcentral], [edx]], previous) == [classcentral["id"], edx["id"]]
    assert dedupe.course_ids([[edx], [classcentral]], previous) == [edx["id"], classcentral["id"]]
    # A previous course named after a record that is gone: its first part keeps the id.
    other = {"id": "coursera_kaggle_2020/python"}
    previous = {edx["id"]: other["id"], classcentral["id"]: other["id"]}
    assert dedupe.course_ids([[classcentral], [edx]], previous) == [other["id"], edx["id"]]
    # Every id a part could take already claimed (records a/1 and c/1 were in a course "b/1" while
    # record b/1 was not): a numbered id, still unique.
    groups = [[{"id": "a/1"}], [{"id": "b/1"}], [{"id": "c/1"}]]
    assert dedupe.course_ids(groups, {"a/1": "b/1", "c/1": "b/1"}) == ["b/1", "b/1~2", "c/1"]


def test_the_two_skillshare_datasets_are_one_class_per_url_with_the_newer_counts(platform_records):
    both = platform_records["skillshare_2022"] + platform_records["skillshare_2024"]
    grouping = dedupe.group_records(both, CountingVectors())
    # 867 URLs of 2022 are in the 2023–24 file; 54 more classes changed the slug before their id.
    assert dict(grouping.merged_pairs) == {"skillshare_2022 + skillshare_2024": 921}
    assert len(grouping.groups) == 14235 + 1080 - 921 == 14394
    productivity = group_of(grouping, "skillshare_2022/647318269")
    assert [r["source"] for r in productivity] == ["skillshare_2024", "skillshare_2022"]
    assert [r["extras"]["enrollments"] for r in productivity] == [109681, 92927]
    merged = dedupe.merge_group(productivity)
    assert merged["name"] == "Productivity Masterclass - Principles and Tools to Boost Your Productivity"
    assert merged["id"] == "skillshare_2024/647318269"
    assert merged["extras"]["enrollments"] == 109681  # "109,681 students" (2023–24), not "92,927 students" (2022)
    # The same class page under two instructor names: the URL decides.
    notion = group_of(grouping, "skillshare_2022/454465449")
    assert [r["institution"] for r in notion] == ["Sprouht", "William Rossy"]
    assert dedupe.merge_group(notion)["extras"]["enrollments"] == 1889
    # A class renamed since 2022 (same id, new slug): one class under its newer title.
    procreate = group_of(grouping, "skillshare_2022/1888082231")
    assert [r["name"] for r in procreate] == [
        "Procreate Animation: Make Fun GIFs & Videos (Original)",
        "Procreate Animation: Make Fun GIFs & Videos",
    ]
    # Its remake under the old title, by the same instructor, is another class.
    remake = group_of(grouping, "skillshare_2024/2144866209")
    assert [(r["name"], r["institution"], r["hours"]) for r in remake] == [
        ("Procreate Animation: Make Fun Gifs & Videos", "Rich Armstrong", 2.97)
    ]


def test_page_keys():
    slash_and_case = (
        "https://www.skillshare.com/en/classes/X/647318269/",
        "http://skillshare.com/en/classes/x/647318269",
    )
    assert dedupe.page_key(slash_and_case[0]) == dedupe.page_key(slash_and_case[1] + "#about")
    # The slug before the class id changed between the two Skillshare datasets; the id did not.
    renamed = (
        "https://www.skillshare.com/en/classes/Procreate-Animation-Make-Fun-GIFs-Videos/1888082231",
        "https://www.skillshare.com/en/classes/Procreate-Animation-Make-Fun-GIFs-Videos-Original/1888082231",
    )
    assert dedupe.page_key(renamed[0]) == dedupe.page_key(renamed[1]) == "skillshare.com/1888082231"
    assert dedupe.page_id(renamed[0]) == "skillshare.com/1888082231"
    assert dedupe.page_id("https://www.linkedin.com/learning/database-foundations-administration-8375189") is None
    # A search names a title, not a page.
    assert dedupe.page_key("https://www.coursera.org/search?query=Business+Analytics") is None
    assert dedupe.page_key("https://www.futurelearn.com/") is None


def test_class_central_listings_join_the_platforms_courses(records, platform_records):
    everything = [r for source_records in platform_records.values() for r in source_records]
    everything += records["classcentral_data_science"]
    grouping = dedupe.group_records(everything, CountingVectors())
    assert dict(grouping.merged_pairs) == {
        "skillshare_2022 + skillshare_2024": 921,
        "classcentral_data_science + linkedin_learning_2021": 9,
        "classcentral_data_science + skillshare_2024": 9,
        "classcentral_data_science + futurelearn_2020": 14,
        "futurelearn + futurelearn_2020": 1,
    }
    mining = group_of(grouping, "classcentral_data_science/76128")
    assert [r["source"] for r in mining] == ["linkedin_learning_2021", "classcentral_data_science"]
    merged = dedupe.merge_group(mining)
    assert merged["name"] == "Data Science Foundations: Data Mining"
    # The listing site's page stays its record's; the course takes the platform's values.
    assert merged["url"] == "https://www.linkedin.com/learning/data-science-foundations-data-mining"
    assert (merged["institution"], merged["hours"], merged["access_model"]) == ("Barton Poulson", 4.68, "subscription")
    # The FutureLearn feed's course and the 2020 dataset's: one course, the feed's values first.
    programming = group_of(grouping, "futurelearn_2020/begin-programming-build-your-first-mobile-game")
    assert [r["source"] for r in programming] == ["futurelearn", "futurelearn_2020"]
    assert dedupe.merge_group(programming)["institution"] == "University of Reading"
