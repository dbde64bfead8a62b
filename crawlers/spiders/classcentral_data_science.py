import re

from crawlers.dataset_spider import CsvDatasetSpider
from crawlers.items import Course

CLASS_CENTRAL_ID = re.compile(r"-(\d+)/?$")


class ClasscentralDataScienceSpider(CsvDatasetSpider):
    """2,069 listings of Class Central's "Data Science" subject (about 2021), across platforms.

    `provider` is the platform that runs the course (Coursera, edX, Pluralsight...) and `url` the
    Class Central page; the listing names no institution. The `provider_ref` is Class Central's
    numeric course id, the number ending the URL.
    """

    name = "classcentral_data_science"
    allowed_domains = ["raw.githubusercontent.com"]
    data_date = "2021"
    start_urls = [
        "https://raw.githubusercontent.com/alynnebc/scrapping-classcentral/"
        "636954d5098fc4f1115476356454799f7e41d5dc/courses.csv"
    ]
    column_map = {
        "name": "course_name",
        "provider": "platform",
        "in_language": "language",
        "url": "url",
    }

    def parse_row(self, row: dict[str, str], item: Course) -> Course | None:
        match = CLASS_CENTRAL_ID.search(item.get("url", ""))
        if match:
            item["provider_ref"] = match.group(1)
        return item
