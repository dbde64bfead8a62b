from typing import Any

from crawlers.api_spider import ApiPage, JsonApiSpider, NextLink
from crawlers.items import Course


class MitxonlineSpider(JsonApiSpider):
    """MITx Online's public courses API (`count`/`next`/`results`, Django REST Framework pages).

    `price` is the course page's current price, else the API's `min_price`; both and `max_price`
    are kept in extras. The API states no currency: MITx Online sells in US dollars. `duration`
    and `weeks` are the API's own texts ("7 hrs/wk", "14 weeks"); `course_mode` its `availability`
    ("dated": runs with dates, "anytime": start any time). The current run — `next_run_id`, else
    the run that starts last — says whether there is a free audit mode (`is_free`); every run, with
    its dates, price and modes, is kept in extras. The mirror holds a real response trimmed to
    three courses.
    """

    name = "mitxonline"
    allowed_domains = ["mitxonline.mit.edu"]
    provider = "MITx Online"
    start_urls = ["https://mitxonline.mit.edu/api/v2/courses/"]
    records_path = "results"
    pagination = NextLink("next")
    defaults = {"institution": "Massachusetts Institute of Technology", "currency": "USD"}
    field_map = {
        "provider_ref": "readable_id",
        "name": "title",
        "description": "page.description",
        "url": "page.page_url",
        "price": ("page.current_price", "min_price"),
        "credential": "certificate_type",
        "duration": ("time_commitment", "page.effort"),
        "weeks": ("duration", "page.length"),
        "course_mode": "availability",
        "subjects": "topics.name",
    }
    extras_map = {
        "id": "id",
        "departments": "departments.name",
        "instructors": "page.instructors.name",
        "min_price": "min_price",
        "max_price": "max_price",
        "required_prerequisites": "required_prerequisites",
        "programs": "programs",
        "runs": lambda course: [_run_summary(run) for run in course.get("courseruns") or []],
    }
    list_fields = ("skills_declared", "subjects", "departments", "instructors")

    def parse_record(self, record: dict[str, Any], item: Course, page: ApiPage) -> Course | None:
        runs = [run for run in record.get("courseruns") or [] if isinstance(run, dict)]
        run = next((each for each in runs if each.get("id") == record.get("next_run_id")), None) or max(
            runs, key=lambda each: each.get("start_date") or "", default=None
        )
        if run is not None:
            modes = {mode.get("mode_slug") for mode in run.get("enrollment_modes") or []}
            item["is_free"] = "audit" in modes
            item["extras"] = {**item.get("extras", {}), "current_run": run.get("courseware_id")}
        return item


def _run_summary(run: dict[str, Any]) -> dict[str, Any]:
    keys = ("courseware_id", "start_date", "end_date", "enrollment_end", "is_self_paced", "is_enrollable")
    summary = {key: run.get(key) for key in keys if run.get(key) is not None}
    summary["prices"] = [product.get("price") for product in run.get("products") or [] if product.get("price")]
    summary["modes"] = [mode.get("mode_slug") for mode in run.get("enrollment_modes") or []]
    return summary
