from typing import Any

from crawlers.api_spider import ApiPage, JsonApiSpider
from crawlers.items import Course

# The catalogue's kinds of learning content, in the order they are read. `units` are the pages of a
# module, not something to take on their own; exams are what a certification is earned by, so they
# are listed on the certification rather than as courses.
LEARNING_KINDS = ("modules", "learningPaths", "courses", "certifications")


def learning_records(catalog: dict[str, Any]) -> list[dict[str, Any]] | None:
    if not isinstance(catalog, dict):
        return None
    return [record for kind in LEARNING_KINDS for record in catalog.get(kind) or []]


class MslearnSpider(JsonApiSpider):
    """The Microsoft Learn catalog API: modules, learning paths, instructor-led courses, certifications.

    The capture is NOT a live response: it is the sample printed in Microsoft's documentation of
    the API (2022), repaired to valid JSON, with one record of each kind and the old
    docs.microsoft.com URLs.

    Products and roles are ids ("azure-portal") that the payload's own `products` and `roles` lists
    name; the products become `skills_declared` (by name where the lists know them, else the id),
    the roles go to extras. `levels` ("beginner", "intermediate") become the raw `level` text.
    `hours` is `duration_in_minutes` / 60 (courses give `duration_in_hours`). `rating` and
    `rating_count` come from the modules' and paths' star ratings. A certification's `credential`
    is its type ("role-based certification"); its exams (uid and title) and study guide go to
    extras. `provider_ref` is the catalogue's `uid`.
    """

    name = "mslearn"
    allowed_domains = ["learn.microsoft.com"]
    provider = "Microsoft Learn"
    start_urls = ["https://learn.microsoft.com/api/catalog/"]
    records_path = staticmethod(learning_records)
    defaults = {"institution": "Microsoft"}
    field_map = {
        "provider_ref": "uid",
        "name": "title",
        "description": ("summary", "subtitle"),
        "url": "url",
        "in_language": ("locale", "locales"),
        "level": lambda record: ", ".join(record.get("levels") or []) or None,
        "hours": (
            lambda record: round(record["duration_in_minutes"] / 60, 2) if record.get("duration_in_minutes") else None,
            "duration_in_hours",
        ),
        "rating": "rating.average",
        "rating_count": "rating.count",
        "credential": lambda record: (
            f"{record['certification_type']} certification" if record.get("certification_type") else None
        ),
        "date_modified": "last_modified",
    }
    extras_map = {
        "type": "type",
        "duration_in_minutes": "duration_in_minutes",
        "popularity": "popularity",
        "course_number": "course_number",
        "modules": "modules",
        "units": "units",
        "certification": "certification",
        "exam": "exam",
        "study_guide": "study_guide",
    }
    list_fields = ("skills_declared", "subjects", "modules", "units")

    def parse_record(self, record: dict[str, Any], item: Course, page: ApiPage) -> Course | None:
        products = _names(page.payload.get("products"))
        roles = _names(page.payload.get("roles"))
        if record.get("products"):
            item["skills_declared"] = [products.get(product, product) for product in record["products"]]
        extras = item.get("extras", {})
        if record.get("roles"):
            extras["roles"] = [roles.get(role, role) for role in record["roles"]]
        if record.get("exams"):
            exams = {exam.get("uid"): exam for exam in page.payload.get("exams") or [] if isinstance(exam, dict)}
            extras["exams"] = [{"uid": uid, "title": exams.get(uid, {}).get("title")} for uid in record["exams"]]
        if extras:
            item["extras"] = extras
        return item


def _names(taxonomy: list[dict[str, Any]] | None) -> dict[str, str]:
    """`{id: name}` over a product or role list and its children."""
    names: dict[str, str] = {}
    for entry in taxonomy or []:
        if isinstance(entry, dict) and entry.get("id"):
            names[entry["id"]] = entry.get("name") or entry["id"]
            names.update(_names(entry.get("children")))
    return names
