from crawlers.dataset_spider import CsvDatasetSpider
from crawlers.items import Course


class EdxKaggle2020Spider(CsvDatasetSpider):
    """975 edX listings scraped about 2020, with descriptions, effort, length and the price text.

    The `provider_ref` is the course slug of the edX URL. A course without a description gets its
    one-line summary instead; the summary, syllabus, instructors and subtitles stay in `extras`.
    """

    name = "edx_kaggle_2020"
    allowed_domains = ["raw.githubusercontent.com"]
    data_date = "2020"
    provider = "edX"
    start_urls = [
        "https://raw.githubusercontent.com/KopecT/udemy-vs-edx/fb76bf4c2a3a4edd2901751246fa61f12e0e3b64/edx_courses.csv"
    ]
    column_map = {
        "name": "title",
        "url": "course_url",
        "description": "course_description",
        "institution": "institution",
        "level": "Level",
        "subjects": "subject",
        "in_language": "language",
        "course_mode": "course_type",
        "duration": "course_effort",
        "weeks": "course_length",
        "price": "price",
        "enrollments": "n_enrolled",
    }
    list_fields = ("subjects",)

    def parse_row(self, row: dict[str, str], item: Course) -> Course | None:
        if item.get("url"):
            item["provider_ref"] = item["url"].rstrip("/").rsplit("/", 1)[-1]
        if not item.get("description") and item.get("extras", {}).get("summary"):
            item["description"] = item["extras"]["summary"]
        return item
