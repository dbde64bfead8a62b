from typing import Any
from urllib.parse import urlsplit

from crawlers.api_spider import ApiPage, JsonApiSpider, NextLink, without_tracking
from crawlers.dataset_spider import to_number
from crawlers.items import Course

PROGRAMS_PATH = "/api/v1/programs/"
# Seats that only let a learner audit; every other seat type sells a certificate.
AUDIT_SEATS = frozenset({"audit", "honor"})


class EdxCatalogSpider(JsonApiSpider):
    """edX's course-discovery API: the catalogue's courses with their runs and seats, and the programs.

    A course has runs; the item describes its current run — the published, visible run that
    starts last, else the run that starts last — while every run, with its dates and seats, is
    kept in extras. The run's paid seat gives the raw `price` (the API's decimal string becomes a
    number), `currency` and `credential` (the seat type, "verified"); an audit seat at 0 sets
    `is_free`. Effort (`min_effort`-`max_effort` hours per week) and length (`weeks_to_complete`)
    are numbers in the API: they are kept as numbers in extras and given to `duration` and `weeks`
    as text ("10-15 hours/week", "13 weeks"), the way edX shows them. The course `url` is its
    www.edx.org marketing page, from the course or its runs, without campaign tags.

    `/api/v1/programs/` lists programs: one item each, `credential` the program type (XSeries,
    MicroMasters...), `provider_ref` "program:<uuid>", the courses it is made of in extras.

    Live, both endpoints need an OAuth access token (`EDX_API_TOKEN`, sent as a JWT); the mirror
    holds real responses trimmed to two MITx courses (with placeholder descriptions such as
    "short_description") and three programs.
    """

    name = "edx_catalog"
    allowed_domains = ["api.edx.org", "discovery.edx.org"]
    provider = "edX"
    start_urls = [
        "https://api.edx.org/catalog/v1/catalogs/10/courses",
        "https://discovery.edx.org/api/v1/programs/",
    ]
    # Paginated responses hold `results`; the captured programs response is the bare list.
    records_path = staticmethod(lambda payload: payload.get("results") if isinstance(payload, dict) else payload)
    pagination = NextLink("next")
    credentials_env = ("EDX_API_TOKEN",)
    credentials_headers = {"Authorization": "JWT {EDX_API_TOKEN}"}
    field_map = {
        "provider_ref": "key",
        "name": "title",
        "description": ("full_description", "short_description"),
        "institution": "owners.0.name",
        "level": "level_type",
        "subjects": "subjects.name",
        "skills_declared": "skill_names",
        "enrollments": "enrollment_count",
        "date_modified": "modified",
    }
    extras_map = {
        "uuid": "uuid",
        "owners": "owners.key",
        "course_type": "course_type",
        "recent_enrollment_count": "recent_enrollment_count",
    }
    list_fields = ("skills_declared", "subjects", "owners")
    program_fields = {
        "name": "title",
        "description": ("subtitle", "marketing_hook"),
        "url": "marketing_url",
        "credential": "type",
        "institution": "authoring_organizations.0.name",
        "date_modified": "data_modified_timestamp",
    }
    program_extras = {
        "uuid": "uuid",
        "status": "status",
        "hidden": "hidden",
        "organizations": "authoring_organizations.key",
        "total_hours_of_effort": "total_hours_of_effort",
        "recent_enrollment_count": "recent_enrollment_count",
        "subscription_prices": "subscription_prices",
        "courses": lambda program: [
            {"key": course.get("key"), "title": course.get("title")} for course in program.get("courses") or []
        ],
    }

    def parse_record(self, record: dict[str, Any], item: Course, page: ApiPage) -> Course | None:
        if urlsplit(page.url).path.startswith(PROGRAMS_PATH):
            program = self.map_record(record, page, self.program_fields, self.program_extras)
            if record.get("uuid"):
                program["provider_ref"] = f"program:{record['uuid']}"
            return program
        runs = [run for run in record.get("course_runs") or [] if isinstance(run, dict)]
        run = current_run(runs)
        url = marketing_url([record.get("marketing_url"), *(each.get("marketing_url") for each in runs)])
        if url:
            item["url"] = url
        if run:
            self._apply_run(item, run)
        item["extras"] = {**item.get("extras", {}), "runs": [_run_summary(each) for each in runs]}
        return item

    def _apply_run(self, item: Course, run: dict[str, Any]) -> None:
        if run.get("pacing_type"):
            item["course_mode"] = run["pacing_type"]
        if run.get("content_language"):
            item["in_language"] = run["content_language"]
        if not item.get("level") and run.get("level_type"):
            item["level"] = run["level_type"]
        efforts = sorted(effort for effort in (run.get("min_effort"), run.get("max_effort")) if effort)
        if efforts:
            # Sorted: some runs store the bounds the wrong way round (min 7, max 5).
            low, high = efforts[0], efforts[-1]
            item["duration"] = f"{low}-{high} hours/week" if low != high else f"{low} hours/week"
        if run.get("weeks_to_complete"):
            item["weeks"] = f"{run['weeks_to_complete']} weeks"
        if run.get("estimated_hours"):
            item["hours"] = run["estimated_hours"]
        seats = [seat for seat in run.get("seats") or [] if isinstance(seat, dict)]
        paid = next((seat for seat in seats if seat.get("type") not in AUDIT_SEATS), None)
        if paid:
            if paid.get("price") is not None:
                item["price"] = to_number(str(paid["price"]), float)
            if paid.get("currency"):
                item["currency"] = paid["currency"]
            if paid.get("type"):
                item["credential"] = paid["type"]
        if any(seat.get("type") in AUDIT_SEATS and to_number(str(seat.get("price")), float) == 0 for seat in seats):
            item["is_free"] = True
        item["extras"] = {
            **item.get("extras", {}),
            "current_run": run.get("key"),
            **{key: run[key] for key in ("min_effort", "max_effort", "weeks_to_complete") if run.get(key) is not None},
        }


def current_run(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The published, visible run that starts last; else the run that starts last."""
    live = [run for run in runs if run.get("status") == "published" and not run.get("hidden")]
    candidates = live or runs
    return max(candidates, key=lambda run: run.get("start") or "", default=None)


def marketing_url(candidates: list[str | None]) -> str | None:
    """The first www.edx.org page among the candidates, without campaign tags.

    Course records can hold a placeholder (`http://localhost/...`) and runs a courseware link
    (courses.edx.org), neither of which is the course's public page.
    """
    for url in candidates:
        if url and urlsplit(url).hostname == "www.edx.org":
            return without_tracking(url)
    return None


def _run_summary(run: dict[str, Any]) -> dict[str, Any]:
    keys = ("key", "start", "end", "pacing_type", "availability", "status", "weeks_to_complete")
    summary = {key: run.get(key) for key in keys if run.get(key) is not None}
    summary["seats"] = [
        {key: seat.get(key) for key in ("type", "price", "currency", "upgrade_deadline") if seat.get(key) is not None}
        for seat in run.get("seats") or []
        if isinstance(seat, dict)
    ]
    return summary
