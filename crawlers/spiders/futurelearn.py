from typing import Any

from crawlers.api_spider import ApiPage, JsonApiSpider
from crawlers.items import Course


class FuturelearnSpider(JsonApiSpider):
    """FutureLearn's courses feed: one unpaginated list of courses, each with its dated runs.

    Courses run on dates, so `course_mode` is "scheduled"; every run (uuid, start date, weeks) is
    kept in extras and the latest one's length gives `weeks` ("7 weeks"). `hours_per_week` is a
    number in the feed: kept in extras and given to `duration` as text ("4 hours per week"), the
    way FutureLearn shows it. `has_certificates` sets `credential` to "certificate" (FutureLearn
    sells one per course). The mirror holds a real feed of about 2017, cut to one course.
    """

    name = "futurelearn"
    allowed_domains = ["www.futurelearn.com"]
    provider = "FutureLearn"
    start_urls = ["https://www.futurelearn.com/feeds/courses"]
    field_map = {
        "provider_ref": "uuid",
        "name": "name",
        "description": ("description", "introduction"),
        "url": "url",
        "institution": "organisation.name",
        "in_language": "language",
        "subjects": "categories",
        "duration": lambda course: (
            f"{course['hours_per_week']} hours per week" if course.get("hours_per_week") else None
        ),
        "credential": lambda course: "certificate" if course.get("has_certificates") else None,
    }
    extras_map = {
        "introduction": "introduction",
        "educator": "educator",
        "hours_per_week": "hours_per_week",
        "has_certificates": "has_certificates",
        "runs": "runs",
    }

    def parse_record(self, record: dict[str, Any], item: Course, page: ApiPage) -> Course | None:
        runs = [run for run in record.get("runs") or [] if isinstance(run, dict)]
        if runs:
            item["course_mode"] = "scheduled"
            latest = max(runs, key=lambda run: run.get("start_date") or "")
            if latest.get("duration_in_weeks"):
                item["weeks"] = f"{latest['duration_in_weeks']} weeks"
        return item
