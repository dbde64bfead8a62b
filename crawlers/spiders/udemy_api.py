import os
from typing import Any

from w3lib.http import basic_auth_header

from crawlers.api_spider import ApiPage, JsonApiSpider, NextLink
from crawlers.items import Course


def _records(payload: Any) -> list[Any] | None:
    # The course list pages hold `results`; a course endpoint answers with the course itself.
    if isinstance(payload, dict) and "results" in payload:
        return payload["results"]
    return [payload] if isinstance(payload, dict) else payload


class UdemyApiSpider(JsonApiSpider):
    """Udemy's affiliate API (api-2.0): course objects asked for with `fields[course]=@all`.

    `price_detail` gives the price as a number and its currency (a free course has none: its
    `price` text, "Free", is kept), `is_paid` → is_free, `num_subscribers` → enrollments, `rating`
    (the one Udemy shows; `avg_rating` is in extras) and `num_reviews` → rating_count, `locale` →
    in_language ("en_US"), `content_info` → duration ("8 total hours"; the minutes, in extras),
    `instructional_level`, the category and subcategory → subjects, the course's topic labels →
    skills_declared, `has_certificate` → credential. The headline, objectives, requirements,
    audiences and instructors (`visible_instructors`) go to extras.

    Live, the API needs an affiliate client: `UDEMY_CLIENT_ID` and `UDEMY_CLIENT_SECRET`, sent as
    HTTP basic auth over https to www.udemy.com only; without them the spider
    logs one line and closes with reason `credentials_missing`. The start URL is the course object
    the mirror holds (4316968). The course list, `https://www.udemy.com/api-2.0/courses/`, has the
    same records under `results` and is paged through `next`; it is not a start URL because the
    mirror holds no capture of it.
    """

    name = "udemy_api"
    allowed_domains = ["www.udemy.com"]
    provider = "Udemy"
    start_urls = ["https://www.udemy.com/api-2.0/courses/4316968/"]
    start_query = {"fields[course]": "@all", "page_size": "100"}
    records_path = staticmethod(_records)
    pagination = NextLink("next")
    credentials_env = ("UDEMY_CLIENT_ID", "UDEMY_CLIENT_SECRET")
    credentials_hosts = ("www.udemy.com",)
    field_map = {
        "provider_ref": "id",
        "name": "title",
        "url": "url",
        "description": ("description", "headline"),
        "price": ("price_detail.amount", "price"),
        "currency": "price_detail.currency",
        "is_free": lambda course: not course["is_paid"] if isinstance(course.get("is_paid"), bool) else None,
        "enrollments": "num_subscribers",
        "rating": "rating",
        "rating_count": "num_reviews",
        "in_language": "locale.locale",
        "duration": "content_info",
        "level": "instructional_level",
        "credential": lambda course: "certificate" if course.get("has_certificate") else None,
        "subjects": lambda course: [
            category.get("title")
            for category in (course.get("primary_category"), course.get("primary_subcategory"))
            if isinstance(category, dict)
        ],
        "skills_declared": "course_has_labels.label.title",
        "date_modified": "last_update_date",
    }
    extras_map = {
        "headline": "headline",
        "slug": "published_title",
        "instructors": "visible_instructors.display_name",
        "avg_rating": "avg_rating",
        "content_length_minutes": "estimated_content_length",
        "num_lectures": "num_published_lectures",
        "objectives": "what_you_will_learn_data.items",
        "requirements": "requirements_data.items",
        "target_audiences": "who_should_attend_data.items",
        "caption_languages": "caption_languages",
        "created": "created",
        "published_time": "published_time",
    }
    list_fields = (
        "skills_declared",
        "subjects",
        "instructors",
        "objectives",
        "requirements",
        "target_audiences",
        "caption_languages",
    )

    def credential_headers(self) -> dict[str, str]:
        # HTTP basic auth, added by the credentials middleware (https to www.udemy.com only), not
        # by Scrapy's HttpAuthMiddleware, which would also send it over plain http.
        if not all(os.environ.get(name) for name in self.credentials_env):
            return {}
        return {"Authorization": basic_auth_header(*(os.environ[name] for name in self.credentials_env)).decode()}

    def parse_record(self, record: Any, item: Course, page: ApiPage) -> Course | None:
        return item if isinstance(record, dict) and record.get("_class", "course") == "course" else None
