"""File stem = spider `name` = class name in CamelCase + `Spider`, for every spider (STYLE.md)."""

from __future__ import annotations

import inspect
from pathlib import Path

from scrapy.spiderloader import get_spider_loader

from crawlers.runner import crawler_settings, list_sources

DATASET_SOURCES = {
    "coursera_skills_2024",
    "coursera_kaggle_2020",
    "edx_kaggle_2020",
    "udemy_kaggle_2017",
    "classcentral_data_science",
    "skillshare_2024",
    "skillshare_2022",
    "linkedin_learning_2021",
    "alison",
    "futurelearn_2020",
}


def camel_case(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def test_file_stem_name_and_class_agree_for_every_spider():
    loader = get_spider_loader(crawler_settings())
    names = loader.list()
    assert set(names) >= DATASET_SOURCES
    mismatches = []
    for name in names:
        spider_cls = loader.load(name)
        stem = Path(inspect.getfile(spider_cls)).stem
        if stem != name or spider_cls.__name__ != camel_case(name) + "Spider":
            mismatches.append(f"{stem}.py: {spider_cls.__name__} named {name!r}")
    assert mismatches == []


# We hold no capture of these sites; their spiders say so and are tested on other real JSON-LD pages.
UNCAPTURED = {"linkedin_learning", "skillshare"}


def test_every_source_starts_from_live_urls_the_mirror_holds(mirror):
    index = (mirror / "INDEX.md").read_text(encoding="utf-8")
    missing = [
        f"{name}: {url}"
        for name, urls in list_sources()
        if name not in UNCAPTURED
        for url in urls or ["(no start URL)"]
        if f"| {name} | {url} |" not in index
    ]
    assert missing == []


def test_uncaptured_sources_say_so():
    loader = get_spider_loader(crawler_settings())
    for name in UNCAPTURED:
        assert "capture" in (loader.load(name).__doc__ or "").lower(), name
