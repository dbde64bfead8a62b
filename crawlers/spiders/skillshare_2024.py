from crawlers.dataset_spider import SkillshareDatasetSpider


class Skillshare2024Spider(SkillshareDatasetSpider):
    """14,250 Skillshare classes scraped about 2023–24: title, class URL, length ("1h 19m"),
    instructor and students ("133,422 students"). 15 URLs repeat a class; the file gives no level,
    rating, category or date."""

    name = "skillshare_2024"
    data_date = "2024"
    allowed_domains = ["raw.githubusercontent.com"]
    start_urls = [
        "https://raw.githubusercontent.com/zhiyuwang0911/AIS_project/"
        "f620d3e65d7970d2a3a43fa9f350678b09456fca/skillshare.csv"
    ]
    column_map = {
        "name": "title",
        "url": "link",
        "duration": "duration",
        "institution": "instructor",
        "enrollments": "students",
    }
