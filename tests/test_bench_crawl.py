"""`skillstack bench crawl`: the generated catalogue parses into the expected courses, and a small
benchmark runs end to end against its own 127.0.0.1 server and stops by itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler

from bench.crawl_site import API_PAGE_SIZE, BenchCatalogue, BenchSite
from crawlers.spiders.mitxonline import MitxonlineSpider
from crawlers.spiders.udemy_pages import UdemyPagesSpider

BASE = "http://127.0.0.1:8"


def spider(spider_cls):
    crawler = get_crawler(spider_cls)
    crawler.spider = spider_cls.from_crawler(crawler)
    return crawler.spider


def test_generated_pages_parse_into_courses_with_the_real_spiders():
    site = BenchSite(BenchCatalogue(course_pages=3, api_pages=2), BASE)
    [course] = spider(UdemyPagesSpider).parse(
        HtmlResponse(BASE + "/course/sql-course-1/", body=site.responses["/course/sql-course-1/"][1], encoding="utf-8")
    )
    assert (course["provider_ref"], course["name"], course["price"], course["rating"]) == (
        "sql-course-1",
        "SQL Masterclass #1",
        "$49.99",
        3.5,
    )
    assert (course["skills_declared"], course["subjects"]) == (["SQL"], ["Business", "Management"])
    assert course["extras"]["udemy_course_id"] == "100001"

    api_page = site.responses["/api/v2/courses/"][1]
    output = list(spider(MitxonlineSpider).parse(TextResponse(BASE + "/api/v2/courses/", body=api_page)))
    courses = [entry for entry in output if not hasattr(entry, "callback")]
    [next_page] = [entry for entry in output if hasattr(entry, "callback")]
    assert len(courses) == API_PAGE_SIZE
    assert courses[0]["provider_ref"] == "course-v1:BenchX+0.01x"
    assert next_page.url == BASE + "/api/v2/courses/?page=2"
    assert site.answer("/api/v2/courses/?page=2") is not None
    assert site.answer("/sitemap/courses.xml?p=1") is not None


def test_bench_crawl_runs_against_its_own_server_and_reports(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "SKILLSTACK_MIRROR"}
    env["SKILLSTACK_HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "skillstack.cli", "bench", "crawl", "--pages", "25", "--json"],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    catalogue = BenchCatalogue.of(25)
    assert report["items"] == catalogue.items
    assert report["pages"] == catalogue.course_pages + catalogue.api_pages + 1 + catalogue.sitemaps
    assert {source["status"] for source in report["sources"]} == {"finished"}
    assert report["pages_per_s"] > 0
    assert report["parse_ms_per_course_page"] > 0
    assert report["parse_ms_per_real_udemy_page"] is None  # no mirror
    assert list(tmp_path.iterdir()) == []  # everything was in a temporary directory
