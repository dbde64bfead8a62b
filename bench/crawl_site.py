"""The crawl benchmark's generated catalogue (`skillstack bench crawl`, `bench.crawl`): Udemy-shaped
course pages behind a sitemap index, and MITx Online-shaped API pages (Django REST Framework
`count`/`next`/`results`), each made from its number (the same on every run), served on 127.0.0.1
by `bench.local_server`.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bench.local_server import Exchange

API_PAGE_SIZE = 20
SITEMAP_SIZE = 1000
# Course pages are most of a catalogue crawl; API pages carry API_PAGE_SIZE courses each.
COURSE_PAGE_SHARE = 0.8

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

    def serve(self, exchange: Exchange) -> None:
        """Answer a request of the crawl: a `bench.local_server` route."""
        found = self.answer(exchange.target)
        content_type, body = found or ("text/plain", b"not found")
        exchange.send(200 if found else 404, body, {"Content-Type": content_type})


SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def _json_ld_of(page: bytes) -> str:
    start = page.index(b'<script type="application/ld+json">') + len(b'<script type="application/ld+json">')
    return page[start : page.index(b"</script>", start)].decode("utf-8")
