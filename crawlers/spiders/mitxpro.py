from typing import Any

from crawlers.api_spider import ApiPage, JsonApiSpider
from crawlers.items import Course


class MitxproSpider(JsonApiSpider):
    """MIT xPRO's public courses API: one unpaginated list of courses with their dated runs.

    The item takes its `price` from the current run (`next_run_id`, else the run that starts last);
    every run, with its dates and price, is kept in extras. The API states no currency: xPRO sells
    in US dollars. `duration` and `weeks` are the API's texts ("5-7 Hours per Week", "3-4 Weeks");
    the numbers some courses add (`min_weekly_hours`...) and the continuing-education units
    (`credits`, "1.25") go to extras. `course_mode` is the API's `availability` ("dated"). The
    mirror holds a real response trimmed to two courses.
    """

    name = "mitxpro"
    allowed_domains = ["xpro.mit.edu"]
    provider = "MIT xPRO"
    start_urls = ["https://xpro.mit.edu/api/courses/"]
    defaults = {"institution": "Massachusetts Institute of Technology", "currency": "USD"}
    field_map = {
        "provider_ref": "readable_id",
        "name": "title",
        "description": "description",
        "url": ("url", "external_marketing_url"),
        "duration": "time_commitment",
        "weeks": "duration",
        "course_mode": "availability",
        "subjects": "topics.name",
    }
    extras_map = {
        "id": "id",
        "format": "format",
        "platform": "platform",
        "ceus": "credits",
        "min_weekly_hours": "min_weekly_hours",
        "max_weekly_hours": "max_weekly_hours",
        "min_weeks": "min_weeks",
        "max_weeks": "max_weeks",
        "instructors": "courseruns.instructors.name",
        "runs": lambda course: [_run_summary(run) for run in course.get("courseruns") or []],
    }
    list_fields = ("skills_declared", "subjects", "instructors")

    def parse_record(self, record: dict[str, Any], item: Course, page: ApiPage) -> Course | None:
        runs = [run for run in record.get("courseruns") or [] if isinstance(run, dict)]
        run = next((each for each in runs if each.get("id") == record.get("next_run_id")), None) or max(
            runs, key=lambda each: each.get("start_date") or "", default=None
        )
        if run is not None:
            if run.get("current_price") is not None:
                item["price"] = run["current_price"]
            item["extras"] = {**item.get("extras", {}), "current_run": run.get("courseware_id")}
        return item


def _run_summary(run: dict[str, Any]) -> dict[str, Any]:
    keys = ("courseware_id", "start_date", "end_date", "enrollment_end", "current_price")
    return {key: run.get(key) for key in keys if run.get(key) is not None}
