"""`skillstack bench crawl`: how fast the crawl layer reads course pages and API pages.

The benchmark generates a catalogue in the shapes of two real captures — Udemy course pages
(schema.org Course + BreadcrumbList JSON-LD, the `udemy_com:price` meta tag, the course id
attribute) found through a sitemap index, and MITx Online's paginated courses API (Django REST
Framework `count`/`next`/`results`, the same record fields) — and serves it from a server on
127.0.0.1 that it starts and stops itself. Two spiders crawl it through `crawlers.runner.run_crawl`,
in a subprocess (a process can run one Twisted reactor): the real `UdemyPagesSpider` and
`MitxonlineSpider`, pointed at the local server, with the project's settings (robots.txt, the
HTTP cache, retries, two requests at a time per host, the item pipelines and the crawl.duckdb
writer) except throttling — no AutoThrottle and no download delay for the local host, where they
would only measure the waits.

Reported: pages/s and items/s over the crawl (from the `crawl_runs` rows: first start to last
finish, robots.txt not counted as a page), and the parse cost per page — the spiders' callbacks
alone, in CPU time, over saved responses in a loop, with no download, scheduling or pipelines. When
`SKILLSTACK_MIRROR` holds real Udemy course pages, their parse cost is reported too.

The generated catalogue is in `bench.crawl_site`, its server is `bench.local_server`; this module
holds the spiders crawled (Scrapy loads them from here in the crawl's subprocess) and the measuring.

Bounded: at most MAX_PAGES pages, one crawl, a subprocess timeout; everything lives in a temporary
directory that is removed afterwards.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
from scrapy.http import HtmlResponse, TextResponse

from bench.crawl_site import API_PAGE_SIZE, BenchCatalogue, BenchSite
from bench.local_server import LocalServer
from crawlers.runner import crawler_settings, run_crawl
from crawlers.spiders.mitxonline import MitxonlineSpider
from crawlers.spiders.udemy_pages import UdemyPagesSpider
from skillstack.settings import mirror_dir, mirror_file_for

SERVER_ENV = "SKILLSTACK_BENCH_SERVER"
MAX_PAGES = 5000
DEFAULT_PAGES = 3000
CRAWL_TIMEOUT_S = 900
PARSE_SAMPLE = 300
PARSE_TARGET_MS = 2.0
REAL_UDEMY_PAGES = [
    "https://www.udemy.com/course/b2b-copywriting/",
    "https://www.udemy.com/course/learn_power_bi_for_free/",
    "https://www.udemy.com/course/the-melody-of-english/",
]

# The local host is ours: AutoThrottle and a download delay would only measure their own waits.
UNTHROTTLED: dict[str, Any] = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0}
# ...and its loopback address is let through the refusal of private addresses.
LOCAL_SERVER: dict[str, Any] = {**UNTHROTTLED, "SKILLSTACK_ALLOW_PRIVATE_HOSTS": ["127.0.0.1"]}


# ---------------------------------------------------------------- the spiders crawled


def _server() -> str:
    return os.environ[SERVER_ENV].rstrip("/")


class BenchCoursePagesSpider(UdemyPagesSpider):
    """`udemy_pages` on the benchmark's server: sitemap index → course sitemaps → course pages."""

    name = "bench_course_pages"
    allowed_domains = ["127.0.0.1"]
    custom_settings = LOCAL_SERVER

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sitemap_urls = [f"{_server()}/sitemap.xml"]


class BenchApiSpider(MitxonlineSpider):
    """`mitxonline` on the benchmark's server: API pages one after another, following `next`."""

    name = "bench_api"
    allowed_domains = ["127.0.0.1"]
    custom_settings = LOCAL_SERVER

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.start_urls = [f"{_server()}/api/v2/courses/"]


BENCH_SOURCES = [BenchCoursePagesSpider.name, BenchApiSpider.name]


# ---------------------------------------------------------------- measuring


@dataclass(frozen=True)
class SourceFigures:
    source: str
    status: str
    pages: int
    items: int
    errors: int
    seconds: float


@dataclass(frozen=True)
class CrawlBenchReport:
    pages_requested: int
    pages: int  # responses crawled, robots.txt not counted
    items: int
    crawl_s: float  # first spider opened → last spider closed
    wall_s: float  # the crawl subprocess, interpreter start included
    cpu_s: float  # CPU time (user + system) of the crawl subprocess, interpreter start included
    pages_per_s: float
    items_per_s: float
    cpu_ms_per_page: float
    load_average: float  # of the machine over the last minute, when the crawl ended
    parse_ms_per_course_page: float
    parse_ms_per_api_page: float
    parse_ms_per_api_item: float
    parse_ms_per_real_udemy_page: float | None  # when SKILLSTACK_MIRROR holds them
    real_udemy_page_kb: float | None
    course_page_kb: float
    api_page_kb: float
    sources: list[SourceFigures]
    settings: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        real = (
            f", real Udemy pages ({self.real_udemy_page_kb:.0f} kB) {self.parse_ms_per_real_udemy_page:.2f} ms/page"
            if self.parse_ms_per_real_udemy_page is not None
            else ""
        )
        verdict = "within" if self.parse_ms_per_course_page < PARSE_TARGET_MS else "OVER"
        return [
            f"crawl: {self.pages:,} pages, {self.items:,} items in {self.crawl_s:.1f}s: "
            f"{self.pages_per_s:,.0f} pages/s, {self.items_per_s:,.0f} items/s; subprocess {self.wall_s:.1f}s wall, "
            f"{self.cpu_s:.1f}s CPU = {self.cpu_ms_per_page:.1f} ms CPU/page (load average {self.load_average:.1f})",
            *(
                f"  {s.source:20} {s.status:8} {s.pages:6,} pages {s.items:7,} items {s.errors:3} errors "
                f"{s.seconds:6.1f}s"
                for s in self.sources
            ),
            f"parse (CPU): course page ({self.course_page_kb:.0f} kB) {self.parse_ms_per_course_page:.2f} ms/page "
            f"[{verdict} the {PARSE_TARGET_MS:g} ms target], API page ({self.api_page_kb:.0f} kB, "
            f"{API_PAGE_SIZE} courses) {self.parse_ms_per_api_page:.2f} ms/page = "
            f"{self.parse_ms_per_api_item:.2f} ms/course{real}",
            "settings: " + ", ".join(f"{key}={value}" for key, value in self.settings.items()),
        ]


def bench_crawl(
    pages: int = DEFAULT_PAGES,
    prepare_crawl_db: Callable[[Path], None] | None = None,
    parse_sample: int = PARSE_SAMPLE,
) -> CrawlBenchReport:
    """Serve a generated catalogue of about `pages` pages on 127.0.0.1, crawl it, time the parsing.

    `prepare_crawl_db(path)` creates the crawl.duckdb tables (the CLI passes the pipeline's
    `open_crawl_db`: the crawlers do not import the pipeline).
    """
    if not 1 <= pages <= MAX_PAGES:
        raise ValueError(f"pages must be between 1 and {MAX_PAGES}, not {pages}")
    catalogue = BenchCatalogue.of(pages)
    with tempfile.TemporaryDirectory(prefix="skillstack-bench-") as temp, LocalServer({}) as server:
        home = Path(temp)
        crawl_db = home / "crawl.duckdb"
        if prepare_crawl_db is not None:
            prepare_crawl_db(crawl_db)
        site = BenchSite(catalogue, server.base_url)
        server.default = site.serve
        wall_s, cpu_s = _crawl_in_subprocess(home, crawl_db, server.base_url)
        load_average = os.getloadavg()[0]
        sources = _source_figures(crawl_db)
        crawl_s = _crawl_span(crawl_db)
        parse = _parse_costs(site, parse_sample)
    crawled_pages = sum(source.pages for source in sources)
    items = sum(source.items for source in sources)
    return CrawlBenchReport(
        pages_requested=pages,
        pages=crawled_pages,
        items=items,
        crawl_s=round(crawl_s, 3),
        wall_s=round(wall_s, 3),
        cpu_s=round(cpu_s, 3),
        pages_per_s=round(crawled_pages / crawl_s, 1),
        items_per_s=round(items / crawl_s, 1),
        cpu_ms_per_page=round(cpu_s * 1000 / max(1, crawled_pages), 2),
        load_average=round(load_average, 2),
        sources=sources,
        settings=_settings_in_force(),
        **parse,
    )


def _settings_in_force() -> dict[str, Any]:
    project = crawler_settings()
    kept = (
        "CONCURRENT_REQUESTS",
        "CONCURRENT_REQUESTS_PER_DOMAIN",
        "ROBOTSTXT_OBEY",
        "HTTPCACHE_ENABLED",
        "RETRY_TIMES",
    )
    return {**{name: project[name] for name in kept}, **UNTHROTTLED}


def _crawl_in_subprocess(home: Path, crawl_db: Path, server_url: str) -> tuple[float, float]:
    """Wall and CPU seconds of the crawl subprocess."""
    env = {key: value for key, value in os.environ.items() if key != "SKILLSTACK_MIRROR"}
    env.update({"SKILLSTACK_HOME": str(home), SERVER_ENV: server_url, "NO_PROXY": "127.0.0.1"})
    log = home / "crawl.log"
    cpu_before = _children_cpu_s()
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as stderr:
        result = subprocess.run(
            [sys.executable, "-m", "bench.crawl", str(crawl_db)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            timeout=CRAWL_TIMEOUT_S,
            check=False,
        )
    wall_s = time.monotonic() - started
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8")[-3000:]
        raise RuntimeError(f"the benchmark crawl exited with {result.returncode}:\n{tail}")
    return wall_s, _children_cpu_s() - cpu_before


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _source_figures(crawl_db: Path) -> list[SourceFigures]:
    with duckdb.connect(str(crawl_db), read_only=True) as con:
        rows = con.execute(
            """
            SELECT source, status, items, errors, epoch(finished_at) - epoch(started_at), stats
              FROM crawl_runs ORDER BY source
            """
        ).fetchall()
    figures = []
    for source, status, items, errors, seconds, stats_json in rows:
        stats = json.loads(stats_json or "{}")
        pages = stats.get("downloader/response_count", 0) - stats.get("robotstxt/response_count", 0)
        figures.append(SourceFigures(source, status, pages, items, errors, round(seconds or 0.0, 3)))
    return figures


def _crawl_span(crawl_db: Path) -> float:
    with duckdb.connect(str(crawl_db), read_only=True) as con:
        [(span,)] = con.execute("SELECT epoch(max(finished_at)) - epoch(min(started_at)) FROM crawl_runs").fetchall()
    return float(span or 0.0)


def _parse_costs(site: BenchSite, sample: int) -> dict[str, Any]:
    from scrapy.utils.test import get_crawler

    def spider(spider_cls: type) -> Any:
        crawler = get_crawler(spider_cls)
        crawler.spider = spider_cls.from_crawler(crawler)
        return crawler.spider

    course_paths = [path for path in site.responses if path.startswith("/course/")][:sample]
    api_paths = [path for path in site.responses if path.startswith("/api/")][: max(1, sample // 4)]
    pages = [
        HtmlResponse(site.base_url + path, body=site.responses[path][1], encoding="utf-8") for path in course_paths
    ]
    api = [TextResponse(site.base_url + path, body=site.responses[path][1], encoding="utf-8") for path in api_paths]
    udemy, mitx = spider(UdemyPagesSpider), spider(MitxonlineSpider)
    course_ms = _ms_per_response(lambda response: udemy.parse(response), pages)
    api_ms = _ms_per_response(lambda response: mitx.parse(response), api)
    real_ms = real_kb = None
    mirror = mirror_dir()
    real_files = [mirror_file_for(url, mirror) for url in REAL_UDEMY_PAGES] if mirror else []
    if real_files and all(path.is_file() for path in real_files):
        bodies = [(url, path.read_bytes()) for url, path in zip(REAL_UDEMY_PAGES, real_files, strict=True)]
        real = [HtmlResponse(url, body=body, encoding="utf-8") for _ in range(20) for url, body in bodies]
        real_ms = round(_ms_per_response(lambda response: udemy.parse(response), real), 3)
        real_kb = round(sum(len(body) for _, body in bodies) / len(bodies) / 1024, 1)
    return {
        "parse_ms_per_course_page": round(course_ms, 3),
        "parse_ms_per_api_page": round(api_ms, 3),
        "parse_ms_per_api_item": round(api_ms / API_PAGE_SIZE, 3),
        "parse_ms_per_real_udemy_page": real_ms,
        "real_udemy_page_kb": real_kb,
        "course_page_kb": round(sum(len(r.body) for r in pages) / len(pages) / 1024, 1),
        "api_page_kb": round(sum(len(r.body) for r in api) / len(api) / 1024, 1),
    }


def _ms_per_response(parse: Callable[[Any], Iterator[Any]], responses: list[Any]) -> float:
    """Mean CPU milliseconds to run a callback over a response and consume what it yields.

    CPU time, not wall time: on a shared machine the wall clock also counts other processes' turns.
    Each response object is parsed once (Scrapy caches a response's selector, so parsing the same
    object again would be nearly free)."""
    started = time.process_time()
    for response in responses:
        for _ in parse(response):
            pass
    return (time.process_time() - started) * 1000 / len(responses)


def _crawl_child(crawl_db: str) -> int:
    """In the crawl subprocess: the two benchmark spiders into `crawl_db` (its tables exist)."""
    run_crawl(BENCH_SOURCES, limit=None, crawl_db=Path(crawl_db), spider_modules=["bench.crawl"])
    return 0


if __name__ == "__main__":
    sys.exit(_crawl_child(sys.argv[1]))
