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

Bounded: at most MAX_PAGES pages, one crawl, a subprocess timeout; everything lives in a temporary
directory that is removed afterwards.
"""

from __future__ import annotations

import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import duckdb
from scrapy.http import HtmlResponse, TextResponse

from crawlers.runner import crawler_settings, run_crawl
from crawlers.spiders.mitxonline import MitxonlineSpider
from crawlers.spiders.udemy_pages import UdemyPagesSpider
from skillstack.settings import mirror_dir, mirror_file_for

SERVER_ENV = "SKILLSTACK_BENCH_SERVER"
MAX_PAGES = 5000
DEFAULT_PAGES = 3000
API_PAGE_SIZE = 20
SITEMAP_SIZE = 1000
# Course pages are most of a catalogue crawl; API pages carry API_PAGE_SIZE courses each.
COURSE_PAGE_SHARE = 0.8
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

SKILLS = [
    "Python", "SQL", "Excel", "Data Analysis", "Machine Learning", "Statistics", "Copywriting",
    "Project Management", "Cybersecurity", "Networking", "Linux", "Welding", "Power BI", "Tableau",
    "JavaScript", "React", "Cloud Computing", "AWS", "Accounting", "Public Speaking", "Leadership",
    "UX Design", "Figma", "Digital Marketing", "SEO", "Docker", "Kubernetes", "Git", "Java", "C#",
]  # fmt: skip
CATEGORIES = [
    ("Development", "Programming Languages"), ("Business", "Management"), ("IT & Software", "Network & Security"),
    ("Marketing", "Content Marketing"), ("Office Productivity", "Microsoft"), ("Design", "Web Design"),
    ("Finance & Accounting", "Accounting & Bookkeeping"), ("Personal Development", "Leadership"),
]  # fmt: skip
WORDS = [
    "learn", "build", "practical", "projects", "real", "world", "skills", "step", "by", "beginners",
    "professionals", "data", "analysis", "reports", "dashboards", "automate", "tasks", "career",
    "hands-on", "exercises", "quizzes", "examples",
]  # fmt: skip


# ---------------------------------------------------------------- the generated catalogue


def _sentence(rand: random.Random, words: int) -> str:
    return " ".join(rand.choice(WORDS) for _ in range(words)).capitalize() + "."


def course_page(number: int, base_url: str) -> bytes:
    """A course page shaped like Udemy's (2022) course pages, about 20 kB."""
    rand = random.Random(number)
    skill = SKILLS[number % len(SKILLS)]
    category, subcategory = CATEGORIES[number % len(CATEGORIES)]
    slug = f"{skill.lower().replace(' ', '-').replace('#', 'sharp')}-course-{number}"
    url = f"{base_url}/course/{slug}/"
    title = f"{skill} {rand.choice(['Bootcamp', 'Masterclass', 'for Beginners', 'in Practice'])} #{number}"
    instructor = f"Instructor {number % 97}"
    json_ld = [
        {
            "@type": "Course",
            "@context": "http://schema.org",
            "publisher": {"@type": "Organization", "name": "Udemy", "sameAs": "www.udemy.com"},
            "provider": {"@type": "Organization", "name": instructor, "sameAs": f"www.udemy.com/user/i{number % 97}/"},
            "@id": url,
            "name": title,
            "description": _sentence(rand, 18),
            "isAccessibleForFree": number % 10 == 0,
            "image": f"https://img-c.udemycdn.com/course/750x422/{number}_8.jpg",
            "inLanguage": rand.choice(["en", "en", "en", "es", "pt", "de"]),
            "audience": {"@type": "Audience", "audienceType": [_sentence(rand, 3) for _ in range(3)]},
            "about": {"name": category},
            "creator": [{"@type": "Person", "name": instructor}],
            "aggregateRating": {
                "@type": "AggregateRating",
                "ratingValue": f"{rand.uniform(3.5, 5):.1f}",
                "ratingCount": rand.randint(5, 50_000),
                "bestRating": 5,
                "worstRating": 0.5,
            },
        },
        {
            "@context": "http://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": [
                {"@type": "ListItem", "position": 1, "name": category, "item": f"{base_url}/courses/c{number % 8}/"},
                {
                    "@type": "ListItem",
                    "position": 2,
                    "name": subcategory,
                    "item": f"{base_url}/courses/c{number % 8}/s/",
                },
                {"@type": "ListItem", "position": 3, "name": skill, "item": f"{base_url}/topic/{slug.split('-')[0]}/"},
            ],
        },
    ]
    price = "Free" if number % 10 == 0 else f"${rand.choice([19.99, 49.99, 84.99, 199.99])}"
    sections = "".join(
        f'<div class="section"><h3>Section {section}: {_sentence(rand, 4)}</h3><ul>'
        + "".join(f"<li><span>{_sentence(rand, 6)}</span><span>{rand.randint(2, 20)}:00</span></li>" for _ in range(8))
        + "</ul></div>"
        for section in range(1, 13)
    )
    description = "".join(f"<p>{_sentence(rand, 25)}</p>" for _ in range(10))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | Udemy</title>
<meta name="description" content="{_sentence(rand, 15)}">
<meta property="og:title" content="{title}"><meta property="og:url" content="{url}">
<meta property="udemy_com:price" content="{price}">
<link rel="canonical" href="{url}">
<script type="application/ld+json">{json.dumps(json_ld)}</script>
</head><body data-clp-course-id="{100000 + number}">
<div class="top-container"><h1 data-purpose="lead-title">{title}</h1>
<div data-purpose="lead-headline">{_sentence(rand, 12)}</div>
<div class="instructor">Created by <a href="/user/i{number % 97}/">{instructor}</a></div>
<div class="price-text">{price}</div></div>
<div class="what-you-will-learn"><ul>{"".join(f"<li>{_sentence(rand, 9)}</li>" for _ in range(8))}</ul></div>
<div class="curriculum">{sections}</div>
<div class="description">{description}</div>
</body></html>"""
    return page.encode("utf-8")


def api_record(number: int, base_url: str) -> dict[str, Any]:
    """A course record shaped like MITx Online's courses API v2."""
    rand = random.Random(-number)
    skill = SKILLS[number % len(SKILLS)]
    readable_id = f"course-v1:BenchX+{number}.01x"
    run_ids = [number * 10 + run for run in range(2)]
    runs = [
        {
            "title": f"{skill} Fundamentals {number}",
            "start_date": f"202{4 - run}-09-04T15:00:00Z",
            "end_date": f"202{4 - run}-12-18T16:00:00Z",
            "enrollment_end": f"202{4 - run}-12-14T00:00:00Z",
            "courseware_url": f"{base_url}/courses/{readable_id}+{run}T2024/course",
            "courseware_id": f"{readable_id}+{run}T2024",
            "is_enrollable": run == 0,
            "is_self_paced": number % 3 == 0,
            "id": run_id,
            "course_number": f"{number}.01x",
            "products": [{"id": run_id, "price": f"{rand.choice([0, 49, 100, 150])}.00", "is_active": True}],
            "enrollment_modes": [{"mode_slug": "verified"}, {"mode_slug": "audit"}],
        }
        for run, run_id in enumerate(run_ids)
    ]
    price = rand.choice([49, 100, 150])
    return {
        "id": number,
        "title": f"{skill} Fundamentals {number}",
        "readable_id": readable_id,
        "next_run_id": run_ids[0],
        "departments": [{"name": CATEGORIES[number % len(CATEGORIES)][0]}],
        "page": {
            "page_url": f"/courses/{readable_id}/",
            "description": _sentence(rand, 30),
            "length": f"{rand.randint(4, 16)} weeks",
            "effort": f"{rand.randint(2, 10)} hrs/wk",
            "current_price": price,
            "instructors": [{"name": f"Professor {number % 53}", "description": ""}],
        },
        "programs": None,
        "topics": [{"name": skill}, {"name": CATEGORIES[number % len(CATEGORIES)][1]}],
        "min_price": price,
        "max_price": price * 3,
        "certificate_type": "Certificate of Completion",
        "required_prerequisites": number % 4 == 0,
        "duration": f"{rand.randint(4, 16)} weeks",
        "time_commitment": f"{rand.randint(2, 10)} hrs/wk",
        "availability": rand.choice(["dated", "anytime"]),
        "courseruns": runs,
    }


@dataclass(frozen=True)
class BenchCatalogue:
    """How many pages of each kind the benchmark serves."""

    course_pages: int
    api_pages: int

    @classmethod
    def of(cls, pages: int) -> BenchCatalogue:
        course_pages = round(pages * COURSE_PAGE_SHARE)
        return cls(course_pages, max(1, pages - course_pages))

    @property
    def sitemaps(self) -> int:
        return math.ceil(self.course_pages / SITEMAP_SIZE)

    @property
    def items(self) -> int:
        return self.course_pages + self.api_pages * API_PAGE_SIZE


class BenchSite:
    """Every response of the generated catalogue, built before the crawl starts so that serving a
    page costs the server a dictionary lookup, not the crawler's CPU time."""

    def __init__(self, catalogue: BenchCatalogue, base_url: str):
        self.catalogue = catalogue
        self.base_url = base_url
        self.responses: dict[str, tuple[str, bytes]] = {
            "/robots.txt": ("text/plain", b"User-agent: *\nAllow: /\n"),
            "/sitemap.xml": ("application/xml", self._sitemap_index()),
        }
        lastmod = (datetime(2025, 12, 1, tzinfo=UTC) - timedelta(days=1)).date().isoformat()
        page_paths = []
        for number in range(catalogue.course_pages):
            body = course_page(number, base_url)
            path = urlsplit(json.loads(_json_ld_of(body))[0]["@id"]).path
            page_paths.append(path)
            self.responses[path] = ("text/html; charset=utf-8", body)
        for sitemap in range(catalogue.sitemaps):
            chunk = page_paths[sitemap * SITEMAP_SIZE : (sitemap + 1) * SITEMAP_SIZE]
            urls = "".join(f"<url><loc>{base_url}{path}</loc><lastmod>{lastmod}</lastmod></url>" for path in chunk)
            self.responses[f"/sitemap/courses.xml?p={sitemap + 1}"] = (
                "application/xml",
                f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="{SITEMAP_NS}">{urls}</urlset>'.encode(),
            )
        for page in range(1, catalogue.api_pages + 1):
            self.responses[self.api_path(page)] = ("application/json", self._api_page(page))

    @staticmethod
    def api_path(page: int) -> str:
        return "/api/v2/courses/" if page == 1 else f"/api/v2/courses/?page={page}"

    def _sitemap_index(self) -> bytes:
        entries = "".join(
            f"<sitemap><loc>{self.base_url}/sitemap/courses.xml?p={number}</loc></sitemap>"
            for number in range(1, self.catalogue.sitemaps + 1)
        )
        index = f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="{SITEMAP_NS}">{entries}</sitemapindex>'
        return index.encode()

    def _api_page(self, page: int) -> bytes:
        first = (page - 1) * API_PAGE_SIZE
        last_page = self.catalogue.api_pages
        payload = {
            "count": last_page * API_PAGE_SIZE,
            "next": f"{self.base_url}{self.api_path(page + 1)}" if page < last_page else None,
            "previous": f"{self.base_url}{self.api_path(page - 1)}" if page > 1 else None,
            "results": [api_record(number, self.base_url) for number in range(first, first + API_PAGE_SIZE)],
        }
        return json.dumps(payload).encode()

    def answer(self, path_and_query: str) -> tuple[str, bytes] | None:
        parts = urlsplit(path_and_query)
        query = dict(parse_qsl(parts.query))
        key = parts.path + (f"?p={query['p']}" if "p" in query else f"?page={query['page']}" if "page" in query else "")
        return self.responses.get(key)


SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def _json_ld_of(page: bytes) -> str:
    start = page.index(b'<script type="application/ld+json">') + len(b'<script type="application/ld+json">')
    return page[start : page.index(b"</script>", start)].decode("utf-8")


class BenchServer:
    """The generated catalogue over HTTP/1.1 (keep-alive) on 127.0.0.1, an ephemeral port."""

    def __init__(self) -> None:
        self.site: BenchSite | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle's algorithm on, the client's delayed
            # ACK holds the body back ~40 ms per response, and the benchmark would measure that stall.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                found = server.site.answer(self.path) if server.site else None
                content_type, body = found or ("text/plain", b"not found")
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="bench-http", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> BenchServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


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
    with tempfile.TemporaryDirectory(prefix="skillstack-bench-") as temp, BenchServer() as server:
        home = Path(temp)
        crawl_db = home / "crawl.duckdb"
        if prepare_crawl_db is not None:
            prepare_crawl_db(crawl_db)
        site = BenchSite(catalogue, server.base_url)
        server.site = site
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
            [sys.executable, "-m", "crawlers.bench", str(crawl_db)],
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
    run_crawl(BENCH_SOURCES, limit=None, crawl_db=Path(crawl_db), spider_modules=["crawlers.bench"])
    return 0


if __name__ == "__main__":
    sys.exit(_crawl_child(sys.argv[1]))
