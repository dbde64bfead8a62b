import html
import re
from typing import Any

from crawlers.api_spider import ApiPage, JsonApiSpider
from crawlers.items import Course

LEADING_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


class IversitySpider(JsonApiSpider):
    """iversity's public courses API (now retired), with its verification tracks and ECTS.

    A course offers tracks ("Audit Track", "Certificate Track", "ECTS-Track"...), each with a price
    text such as "49 €". The item's `price` and `credential` are those of the cheapest paid track,
    as given ("49 €", "Certificate Track"); a track without a price sets `is_free`. Every track, and
    whether ECTS credits are available (`ects_available`, the string "true" in the API), is kept in
    extras. `weeks` is the API's `duration`, a number of weeks as a string ("14"; the run's dates
    span them). Names come HTML-escaped ("Universit&auml;t"); they are unescaped, descriptions stay
    HTML. The mirror holds a real response cut to one course.
    """

    name = "iversity"
    allowed_domains = ["iversity.org"]
    provider = "iversity"
    start_urls = ["https://iversity.org/api/v1/courses"]
    records_path = "courses"
    field_map = {
        "provider_ref": "id",
        "name": lambda course: html.unescape(course.get("title") or ""),
        "description": "description",
        "url": "url",
        "institution": lambda course: html.unescape(
            next((org.get("name") or "" for org in course.get("organisations") or []), "")
        ),
        "in_language": "language",
        "level": "knowledge_level",
        "subjects": "discipline",
        "weeks": "duration",
    }
    extras_map = {
        "subtitle": lambda course: html.unescape(course.get("subtitle") or ""),
        "start_date": "start_date",
        "end_date": "end_date",
        "ects_available": "ects_available",
        "organisations": lambda course: [
            html.unescape(org.get("name") or "") for org in course.get("organisations") or []
        ],
        "instructors": "instructors.name",
        "tracks": lambda course: [
            {"title": track.get("title"), "price": track.get("price"), "credits": track.get("credits")}
            for track in course.get("verifications") or []
            if isinstance(track, dict)
        ],
    }
    list_fields = ("skills_declared", "subjects", "organisations", "instructors")

    def parse_record(self, record: dict[str, Any], item: Course, page: ApiPage) -> Course | None:
        tracks = [track for track in record.get("verifications") or [] if isinstance(track, dict)]
        paid = [track for track in tracks if _amount(track.get("price")) is not None]
        if paid:
            cheapest = min(paid, key=lambda track: _amount(track["price"]))
            item["price"] = cheapest["price"].strip()
            if cheapest.get("title"):
                item["credential"] = cheapest["title"]
        if any(not track.get("price") for track in tracks):
            item["is_free"] = True
        return item


def _amount(price: Any) -> float | None:
    """The number in a price text ("149 €" → 149.0), only to compare tracks."""
    match = LEADING_NUMBER.search(price) if isinstance(price, str) else None
    return float(match.group().replace(",", ".")) if match else None
