"""Helpers the test modules share: the captures, the real CLI in a subprocess, spider callbacks, homes.

Test modules import from here (and fixtures come from conftest.py), never from one another, so a
test module can be read, moved or deleted on its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from scrapy import Request, Spider
from scrapy.http import Response, TextResponse
from scrapy.responsetypes import responsetypes
from scrapy.statscollectors import StatsCollector
from scrapy.utils.test import get_crawler

from crawlers.items import Course
from crawlers.spiders.linkedin_learning_2021 import LinkedinLearning2021Spider
from skillstack.settings import mirror_file_for

# The captured real responses, inside the repository (tests/captures/PROVENANCE.md).
MIRROR_DIR = Path(__file__).resolve().parent / "captures"

# ---------------------------------------------------------------- the captures as spider input


def mirror_response_for(url: str, mirror: Path = MIRROR_DIR) -> Response:
    """Build the Scrapy response the mirror holds for a URL, as a spider callback receives it.

    The response class (TextResponse, HtmlResponse, XmlResponse, JsonResponse) is chosen the way
    the download handler chooses it; `response.request` is set so callbacks can read `meta`.
    """
    path = mirror_file_for(url, mirror)
    body = path.read_bytes()
    response_class = responsetypes.from_args(filename=str(path), body=body, url=url)
    return response_class(url=url, body=body, request=Request(url))


def new_spider(spider_cls: type[Spider], **spider_args: Any) -> tuple[Spider, StatsCollector]:
    crawler = get_crawler(spider_cls)
    return spider_cls.from_crawler(crawler, **spider_args), crawler.stats


def parse_one(spider_cls: type[Spider], response: Response) -> Course:
    """The one item a spider's `parse` makes of a response."""
    spider, _ = new_spider(spider_cls)
    [item] = list(spider.parse(response))
    return item


def crawl_capture(
    spider_cls, mirror_response: Callable[[str], Response], **spider_args
) -> tuple[dict[str, Course], list[Request], StatsCollector]:
    """Items by provider_ref and follow-up requests, from the spider's callback on each captured start URL."""
    spider, stats = new_spider(spider_cls, **spider_args)
    items: list[Course] = []
    requests: list[Request] = []
    for url in spider_cls.start_urls:
        for output in spider.parse(mirror_response(url)):
            if isinstance(output, Course):
                items.append(output)
            elif isinstance(output, Request):
                requests.append(output)
    by_ref = {item["provider_ref"]: item for item in items}
    assert len(by_ref) == len(items), "provider_ref must be unique within a source"
    return by_ref, requests, stats


# The Udemy course pages of the captures.
B2B = "https://www.udemy.com/course/b2b-copywriting/"
POWER_BI = "https://www.udemy.com/course/learn_power_bi_for_free/"
MELODY = "https://www.udemy.com/course/the-melody-of-english/"

# ---------------------------------------------------------------- the real CLI in a subprocess

# The dataset sources of the mirror, each bounded: enough real courses for every layer's tests
# while the whole build (taxonomy vectors included) stays a few minutes on two cores.
CATALOG_SOURCES = (
    "coursera_skills_2024",
    "coursera_kaggle_2020",
    "edx_kaggle_2020",
    "udemy_kaggle_2017",
    "classcentral_data_science",
)
CATALOG_LIMIT = 200


def run_skillstack(home: Path, *args: str, check: bool = True, timeout: float = 3600) -> subprocess.CompletedProcess:
    """Run the real `skillstack` command in a subprocess (Scrapy's reactor runs once per process)."""
    env = {**os.environ, "SKILLSTACK_HOME": str(home), "SKILLSTACK_MIRROR": str(MIRROR_DIR), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "skillstack.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"skillstack {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result


def skillstack(*args: str, home: Path, mirror: Path) -> subprocess.CompletedProcess[str]:
    """`skillstack ARGS` in a subprocess with the given home and mirror; the caller checks the exit."""
    env = {**os.environ, "SKILLSTACK_HOME": str(home), "SKILLSTACK_MIRROR": str(mirror)}
    return subprocess.run(
        [sys.executable, "-m", "skillstack.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of one query on a DuckDB file, opened read-only and closed again."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# ---------------------------------------------------------------- homes and processes

RUNTIME_STATE = ("catalog.duckdb", "crawl.duckdb")


def copy_home(source: Path, target: Path) -> Path:
    """A SKILLSTACK_HOME holding copies of another's databases (runtime state, fine to copy)."""
    target.mkdir(parents=True)
    for name in RUNTIME_STATE:
        shutil.copy2(source / name, target / name)
    return target


def env_for(home: Path, mirror: Path = MIRROR_DIR) -> dict[str, str]:
    return {**os.environ, "SKILLSTACK_HOME": str(home), "SKILLSTACK_MIRROR": str(mirror), "HF_HUB_OFFLINE": "1"}


def reports(home: Path) -> list[dict]:
    """The nightly reports of a home, oldest first."""
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted((home / "reports").glob("*.json"))]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


# ---------------------------------------------------------------- markup a page must never run

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1">'
XSS_DESCRIPTION = f"Learn {IMG} and {SCRIPT} :red[not red] $x$ [a](javascript:window.__xss=1)"
# Markdown a page must not turn into a link or an image: the browser test looks for this host.
EVIL_HOST = "evil.example"
XSS_MARKDOWN = f"[click](https://{EVIL_HOST}/link) ![pic](https://{EVIL_HOST}/pic.png) <{SCRIPT}> :red[x]"


def make_xss_home(built_home: Path, home: Path, course_id: str) -> str:
    """A copy of the built catalogue in `home` where one course's every shown scraped field carries
    markup and script: title, description and URL, and Markdown links and images in its duration
    and price as listed (shown in tooltips), institution, credential term, tags, skill evidence and
    other listings. Its vector, skills and offers stay, so it ranks as before. Returns the new title."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy2(built_home / "catalog.duckdb", home / "catalog.duckdb")
    con = duckdb.connect(str(home / "catalog.duckdb"))
    try:
        ((name,),) = con.execute("SELECT name FROM courses WHERE id = ?", [course_id]).fetchall()
        title = f"{SCRIPT} {name} {IMG}"
        con.execute(
            "UPDATE courses SET name = ?, description = ? || ' ' || coalesce(description, ''), url = ? WHERE id = ?",
            [title, XSS_DESCRIPTION, "javascript:window.__xss=1", course_id],
        )
        con.execute(
            "UPDATE courses SET duration_raw = '1 - 3 Months ' || ?, institution = ?, credential_raw = ?, "
            "skills_declared = [?, 'SQL'], hours = coalesce(hours, 86.96) WHERE id = ?",
            [XSS_MARKDOWN, f"Uni {XSS_MARKDOWN}", XSS_MARKDOWN, XSS_MARKDOWN, course_id],
        )
        con.execute("UPDATE offers SET price_raw = ? WHERE course_id = ?", [XSS_MARKDOWN, course_id])
        con.execute(
            "UPDATE course_skills SET evidence = 'description: ' || ? WHERE course_id = ?", [XSS_MARKDOWN, course_id]
        )
        con.execute(
            "UPDATE course_records SET name = ?, institution = ? WHERE course_id = ? AND id <> ?",
            [f"Listed as {XSS_MARKDOWN}", XSS_MARKDOWN, course_id, course_id],
        )
        # As a build publishes it: a new build time, which is what readers key their kept indexes on.
        con.execute("UPDATE catalog_meta SET value = '2099-01-01T00:00:00' WHERE key = 'built_at'")
    finally:
        con.close()
    return title


# ---------------------------------------------------------------- dataset spiders


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


def linkedin_learning_items(mirror_response) -> tuple[list[Course], StatsCollector]:
    """The spider's two requests as Scrapy makes them: the URL list, then the workbook with its lines."""
    crawler = get_crawler(LinkedinLearning2021Spider)
    spider = LinkedinLearning2021Spider.from_crawler(crawler)
    [first] = asyncio.run(collect(spider.start()))
    assert first.url == LinkedinLearning2021Spider.url_list
    [dataset_request] = spider.parse_url_list(mirror_response(first.url), **first.cb_kwargs)
    assert dataset_request.url == LinkedinLearning2021Spider.start_urls[0]
    items = list(dataset_request.callback(mirror_response(dataset_request.url), **dataset_request.cb_kwargs))
    return items, crawler.stats


async def collect(requests):
    return [request async for request in requests]
