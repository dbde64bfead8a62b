from crawlers.dataset_spider import CsvDatasetSpider
from crawlers.items import Course


class UdemyKaggle2017Spider(CsvDatasetSpider):
    """3,678 Udemy listings collected through the Udemy API in 2017 (Kaggle "udemy-courses").

    `hours` is the video content length; `enrollments` the subscriber count. The dataset does not
    say in which currency prices are, so `currency` stays unset.
    """

    name = "udemy_kaggle_2017"
    allowed_domains = ["raw.githubusercontent.com"]
    data_date = "2017"
    provider = "Udemy"
    start_urls = [
        "https://raw.githubusercontent.com/KopecT/udemy-vs-edx/fb76bf4c2a3a4edd2901751246fa61f12e0e3b64/udemy_courses.csv"
    ]
    column_map = {
        "provider_ref": "course_id",
        "name": "course_title",
        "url": "url",
        "price": "price",
        "level": "level",
        "hours": "content_duration",
        "enrollments": "num_subscribers",
        "rating_count": "num_reviews",
        "subjects": "subject",
    }
    list_fields = ("subjects",)

    def parse_row(self, row: dict[str, str], item: Course) -> Course | None:
        if row.get("is_paid") in ("True", "False"):
            item["is_free"] = row["is_paid"] == "False"
        return item
