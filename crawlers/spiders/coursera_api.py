from typing import Any

from crawlers.api_spider import ApiPage, JsonApiSpider, NextParam
from crawlers.items import Course

COURSE_URL = "https://www.coursera.org/learn/{slug}"


class CourseraApiSpider(JsonApiSpider):
    """Coursera's public catalogue API, `courses.v1`, with the partners and instructors it links.

    `includes=partnerIds,instructorIds` makes each page carry a `linked` section with the
    `partners.v1` and `instructors.v1` records the courses refer to by id: the first partner becomes
    the `institution` (all of them go to extras), the instructors' names go to extras. `fields=`
    asks for what the API leaves out by default. `paging.next` is the start offset of the next page.

    The mirror holds a real response of about 2015, cut to two courses; its `paging.next` still
    points on, and the mirror answers the next page with the same file, whose courses are then
    skipped as duplicates. Course pages live at `/learn/<slug>` (older `/course/<slug>` links
    redirect there). `startDate` is kept as given, milliseconds since the epoch.
    """

    name = "coursera_api"
    allowed_domains = ["api.coursera.org"]
    provider = "Coursera"
    start_urls = ["https://api.coursera.org/api/courses.v1"]
    start_query = {
        "includes": "partnerIds,instructorIds",
        "fields": (
            "name,slug,courseType,description,workload,primaryLanguages,subtitleLanguages,certificates,"
            "domainTypes,startDate,partnerIds,instructorIds,partners.v1(name,shortName),"
            "instructors.v1(fullName,firstName,lastName,prefixName)"
        ),
        "limit": "100",
    }
    records_path = "elements"
    pagination = NextParam("paging.next", param="start")
    field_map = {
        "provider_ref": "id",
        "name": "name",
        "description": "description",
        "url": lambda course: COURSE_URL.format(slug=course["slug"]) if course.get("slug") else None,
        "duration": "workload",
        "in_language": "primaryLanguages",
        "credential": "certificates.0",
        "subjects": "domainTypes.subdomainId",
    }
    extras_map = {
        "slug": "slug",
        "course_type": "courseType",
        "start_date": "startDate",
        "subtitle_languages": "subtitleLanguages",
        "certificates": "certificates",
        "domains": "domainTypes.domainId",
    }
    list_fields = ("skills_declared", "subjects", "subtitle_languages", "certificates", "domains")

    def parse_record(self, record: dict[str, Any], item: Course, page: ApiPage) -> Course | None:
        linked = page.payload.get("linked") or {}
        partners = _by_id(linked.get("partners.v1"))
        names = [partners[ref]["name"] for ref in record.get("partnerIds", []) if partners.get(ref, {}).get("name")]
        if names:
            item["institution"] = names[0]
        instructors = _by_id(linked.get("instructors.v1"))
        teachers = [_instructor_name(instructors[ref]) for ref in record.get("instructorIds", []) if ref in instructors]
        extras = {"partners": names, "instructors": [name for name in teachers if name]}
        item["extras"] = {**item.get("extras", {}), **{key: value for key, value in extras.items() if value}}
        return item


def _by_id(records: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    return {str(record["id"]): record for record in records or [] if isinstance(record, dict) and "id" in record}


def _instructor_name(instructor: dict[str, Any]) -> str:
    """`fullName` when set, else the parts Coursera stores apart ("Dr" "Marco" "Gillies")."""
    if (instructor.get("fullName") or "").strip():
        return instructor["fullName"].strip()
    parts = (instructor.get(key) or "" for key in ("prefixName", "firstName", "lastName"))
    return " ".join(part.strip() for part in parts if part.strip())
