from crawlers.api_spider import JsonApiSpider


class UdacitySpider(JsonApiSpider):
    """Udacity's public catalog API (now retired): every course in one response under `courses`.

    `weeks` is the expected length as the API gives it in two fields ("3 months"); the tracks a
    course belongs to are its `subjects`; the syllabus, prerequisites and instructors go to extras.
    An affiliate (a company that built the course) is the `institution`. The mirror holds a real
    response cut to one course.
    """

    name = "udacity"
    allowed_domains = ["catalog-api.udacity.com"]
    provider = "Udacity"
    start_urls = ["https://catalog-api.udacity.com/v1/courses"]
    records_path = "courses"
    field_map = {
        "provider_ref": "key",
        "name": "title",
        "description": ("summary", "short_summary"),
        "url": "homepage",
        "level": "level",
        "institution": "affiliates.0.name",
        "subjects": "tracks",
        "weeks": lambda course: (
            f"{course['expected_duration']} {course.get('expected_duration_unit') or ''}".strip()
            if course.get("expected_duration")
            else None
        ),
    }
    extras_map = {
        "slug": "slug",
        "subtitle": "subtitle",
        "short_summary": "short_summary",
        "expected_duration": "expected_duration",
        "expected_duration_unit": "expected_duration_unit",
        "expected_learning": "expected_learning",
        "required_knowledge": "required_knowledge",
        "syllabus": "syllabus",
        "project_name": "project_name",
        "instructors": "instructors.name",
        "starter": "starter",
        "full_course_available": "full_course_available",
    }
    list_fields = ("skills_declared", "subjects", "instructors")
