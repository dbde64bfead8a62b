"""Item pipelines: spider defaults, Course validation, and the crawl.duckdb writer on a real file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from core.store import open_crawl_db
from crawlers.items import Course
from crawlers.pipelines import write_crawl_db
from crawlers.pipelines.apply_spider_defaults import ApplySpiderDefaultsPipeline
from crawlers.pipelines.validate_course import VALIDATORS, ValidateCoursePipeline
from crawlers.pipelines.write_crawl_db import WriteCrawlDbPipeline
from crawlers.spiders.udemy_kaggle_2017 import UdemyKaggle2017Spider


def crawler_with_spider(spider_cls=UdemyKaggle2017Spider, settings: dict | None = None):
    crawler = get_crawler(spider_cls, settings_dict=settings)
    crawler.spider = spider_cls.from_crawler(crawler)
    return crawler


def udemy_course(**fields) -> Course:
    return Course(
        {
            "provider_ref": "1070968",
            "name": "Ultimate Investment Banking Course",
            "url": "https://www.udemy.com/ultimate-investment-banking-course/",
            **fields,
        }
    )


def test_defaults_fill_source_provider_and_id():
    pipeline = ApplySpiderDefaultsPipeline.from_crawler(crawler_with_spider())
    item = pipeline.process_item(udemy_course())
    assert item["source"] == "udemy_kaggle_2017"
    assert item["provider"] == "Udemy"
    assert item["id"] == "udemy_kaggle_2017/1070968"


def test_defaults_never_override_what_the_spider_set():
    pipeline = ApplySpiderDefaultsPipeline.from_crawler(crawler_with_spider())
    item = pipeline.process_item(udemy_course(provider="Udemy Business", id="custom/1"))
    assert (item["provider"], item["id"]) == ("Udemy Business", "custom/1")


def test_every_course_field_has_a_validator():
    assert set(VALIDATORS) == set(Course.fields)


def test_validation_counts_missing_and_invalid_fields_and_keeps_the_item():
    crawler = crawler_with_spider()
    item = udemy_course(rating="five stars", hours=1.5, skills_declared=[])
    assert ValidateCoursePipeline.from_crawler(crawler).process_item(item) is item
    stats = crawler.stats
    assert stats.get_value("skillstack/field/rating/invalid") == 1
    assert stats.get_value("skillstack/field/description/missing") == 1
    assert stats.get_value("skillstack/field/skills_declared/missing") == 1
    assert stats.get_value("skillstack/field/hours/invalid") is None
    assert stats.get_value("skillstack/field/name/missing") is None


@pytest.mark.parametrize("required", ["url", "name", "provider_ref"])
def test_validation_drops_an_item_without_url_name_or_provider_ref(required):
    crawler = crawler_with_spider()
    item = udemy_course()
    item[required] = " " if required == "name" else ""
    with pytest.raises(DropItem, match=f"missing_{required}"):
        ValidateCoursePipeline.from_crawler(crawler).process_item(item)
    assert crawler.stats.get_value(f"skillstack/dropped/missing_{required}") == 1


# ---------------------------------------------------------------- crawl.duckdb writer


@pytest.fixture
def crawl_db(tmp_path: Path):
    path = tmp_path / "crawl.duckdb"
    open_crawl_db(path).close()
    yield path
    # A failed test may leave its writer's connection open; the next test must not inherit it.
    write_crawl_db.close_shared_connections()


def open_writer(crawl_db: Path, spider_cls=UdemyKaggle2017Spider, **settings) -> WriteCrawlDbPipeline:
    crawler = crawler_with_spider(
        spider_cls, {"SKILLSTACK_CRAWL_DB": str(crawl_db), "SKILLSTACK_RUN_ID": "run-1", **settings}
    )
    writer = WriteCrawlDbPipeline.from_crawler(crawler)
    writer.spider_opened(crawler.spider)
    return writer


def test_writer_records_the_run_and_every_item(crawl_db):
    writer = open_writer(crawl_db)
    spider = writer.crawler.spider
    defaults = ApplySpiderDefaultsPipeline.from_crawler(writer.crawler)
    for number in range(write_crawl_db.BATCH_SIZE + 3):
        writer.process_item(defaults.process_item(udemy_course(provider_ref=str(number), price=200)))
    writer.crawler.stats.set_value("downloader/response_status_count/200", 1)
    writer.spider_closed(spider, "finished")

    con = duckdb.connect(str(crawl_db), read_only=True)
    run = con.execute(
        "SELECT status, finish_reason, items, errors, dropped, finished_at IS NOT NULL, stats FROM crawl_runs"
    ).fetchone()
    assert run[:6] == ("finished", "finished", write_crawl_db.BATCH_SIZE + 3, 0, 0, True)
    assert json.loads(run[6])["downloader/response_status_count/200"] == 1
    count, distinct = con.execute("SELECT count(*), count(DISTINCT course_id) FROM crawl_items").fetchone()
    assert count == distinct == write_crawl_db.BATCH_SIZE + 3
    course_id, url, item = con.execute(
        "SELECT course_id, url, item FROM crawl_items WHERE run_id = ? AND course_id = ?",
        ["run-1", "udemy_kaggle_2017/7"],
    ).fetchone()
    assert url == "https://www.udemy.com/ultimate-investment-banking-course/"
    assert json.loads(item)["price"] == 200
    con.close()
    assert write_crawl_db._shared == {}


def test_writer_marks_a_run_running_until_its_spider_closes(crawl_db):
    writer = open_writer(crawl_db)
    status = write_crawl_db._shared[crawl_db.resolve()][0].execute("SELECT status FROM crawl_runs").fetchone()
    assert status == ("running",)
    writer.spider_closed(writer.crawler.spider, "shutdown")
    con = duckdb.connect(str(crawl_db), read_only=True)
    assert con.execute("SELECT status, finish_reason FROM crawl_runs").fetchone() == ("failed", "shutdown")
    con.close()


@pytest.mark.parametrize(
    ("limit", "reason", "items", "status", "recorded_reason"),
    [
        (20, "closespider_itemcount", 1, "finished", "closespider_itemcount"),
        (0, "closespider_itemcount", 1, "failed", "closespider_itemcount"),
        (20, "closespider_errorcount", 1, "failed", "closespider_errorcount"),
        (0, "source_unavailable", 0, "failed", "source_unavailable"),
        # read to the end with not one course: a header-only file, {"results": []}
        (0, "finished", 0, "failed", write_crawl_db.NO_ITEMS),
        (20, "closespider_itemcount", 0, "failed", write_crawl_db.NO_ITEMS),
    ],
)
def test_writer_status_from_finish_reason(crawl_db, limit, reason, items, status, recorded_reason):
    writer = open_writer(crawl_db, SKILLSTACK_LIMIT=limit)
    defaults = ApplySpiderDefaultsPipeline.from_crawler(writer.crawler)
    for number in range(items):
        writer.process_item(defaults.process_item(udemy_course(provider_ref=str(number))))
    writer.spider_closed(writer.crawler.spider, reason)
    con = duckdb.connect(str(crawl_db), read_only=True)
    run_status, finish_reason, limit_stat = con.execute(
        "SELECT status, finish_reason, stats->>'$.\"skillstack/limit\"' FROM crawl_runs"
    ).fetchone()
    assert (run_status, finish_reason) == (status, recorded_reason)
    assert limit_stat == (str(limit) if limit else None)
    con.close()


def test_writers_of_one_process_share_one_connection(crawl_db):
    from crawlers.spiders.edx_kaggle_2020 import EdxKaggle2020Spider

    udemy = open_writer(crawl_db)
    edx = open_writer(crawl_db, EdxKaggle2020Spider)
    assert udemy.con is edx.con
    for writer in (udemy, edx):  # a run that finishes with no item is a failed run
        defaults = ApplySpiderDefaultsPipeline.from_crawler(writer.crawler)
        writer.process_item(defaults.process_item(udemy_course()))
    udemy.spider_closed(udemy.crawler.spider, "finished")
    assert crawl_db.resolve() in write_crawl_db._shared  # edX still writing
    edx.spider_closed(edx.crawler.spider, "finished")
    assert write_crawl_db._shared == {}
    con = duckdb.connect(str(crawl_db), read_only=True)
    assert con.execute("SELECT source, status FROM crawl_runs ORDER BY source").fetchall() == [
        ("edx_kaggle_2020", "finished"),
        ("udemy_kaggle_2017", "finished"),
    ]
    con.close()
