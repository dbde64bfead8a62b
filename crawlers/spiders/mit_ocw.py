from typing import Any
from urllib.parse import urlsplit

from crawlers.api_spider import ApiPage, JsonApiSpider
from crawlers.items import Course


class MitOcwSpider(JsonApiSpider):
    """MIT OpenCourseWare: the `data.json` that ocw.mit.edu serves beside each course page.

    The file holds one course and does not name itself: the course slug, its `provider_ref`, and
    its URL come from the file's address (`/courses/<slug>/data.json` → `/courses/<slug>/`). Topics
    are paths from broad to narrow and become `subjects` as "Social Science > Anthropology >
    Ethnography"; OCW's levels ("Undergraduate", "High School") are the raw `level` text. OCW
    courses are free. The start URL is the one course the mirror holds, 16.01 Unified Engineering;
    more courses are more `data.json` URLs.
    """

    name = "mit_ocw"
    allowed_domains = ["ocw.mit.edu"]
    provider = "MIT OpenCourseWare"
    start_urls = ["https://ocw.mit.edu/courses/16-01-unified-engineering-i-ii-iii-iv-fall-2005-spring-2006/data.json"]
    # The payload is the course itself.
    records_path = staticmethod(lambda course: [course] if isinstance(course, dict) else None)
    defaults = {"institution": "Massachusetts Institute of Technology", "is_free": True, "in_language": "en"}
    field_map = {
        "name": "course_title",
        "description": ("course_description", "course_description_html"),
        "level": lambda course: ", ".join(course.get("level") or []) or None,
        "subjects": lambda course: [" > ".join(path) for path in course.get("topics") or [] if path],
    }
    extras_map = {
        "course_number": "primary_course_number",
        "extra_course_numbers": "extra_course_numbers",
        "term": "term",
        "year": "year",
        "departments": "department_numbers",
        "instructors": "instructors.title",
        "resource_types": "learning_resource_types",
        "site_uid": "site_uid",
    }
    list_fields = ("skills_declared", "subjects", "departments", "instructors", "resource_types")

    def parse_record(self, record: dict[str, Any], item: Course, page: ApiPage) -> Course | None:
        course_path = urlsplit(page.url).path.removesuffix("data.json")
        slug = course_path.rstrip("/").rsplit("/", 1)[-1]
        if slug:
            item["provider_ref"] = slug
            item["url"] = f"https://ocw.mit.edu{course_path}"
        return item
