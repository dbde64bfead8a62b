import re

from crawlers.dataset_spider import SkillshareDatasetSpider
from crawlers.items import Course

# "28 Lessons (4h 9m)", "\n   238\n   Projects\n", "\n  239\n  Engaging Teacher\n": a number, then a label.
COUNT_AND_LABEL = re.compile(r"^\s*(\d[\d,]*)\s+(\S.*?)\s*$", re.DOTALL)
REVIEW_TAG_COLUMNS = ("engaging", "clarity", "quality")


class Skillshare2022Spider(SkillshareDatasetSpider):
    """1,080 Skillshare classes scraped about 2022 (UTF-8 with a byte-order mark), 867 of them also
    in the 2023–24 dataset with older counts.

    Besides title, URL, students, length and instructor, a row holds its lesson count
    ("28 Lessons (4h 9m)"), student projects and the three review tags learners gave most, each a
    count and a tag name wrapped in lines of page whitespace. The headers `engaging`, `clarity`
    and `quality` do not name the tag each cell holds ("Helpful Examples" is under `quality`), so
    the tags are kept by their own names: `extras["review_tags"]` = {"Engaging Teacher": 239, ...}.
    The level is "Beginner level" on every row, advanced classes too: it is kept in extras as the
    page showed it, not taken as the class's level.
    """

    name = "skillshare_2022"
    data_date = "2022"
    allowed_domains = ["raw.githubusercontent.com"]
    start_urls = [
        "https://raw.githubusercontent.com/harshachaitanya27/PersonalisedCourseRecommender/"
        "b8680a863755140fa2f8bf1edfd5f2161135a3b1/data/skillshare.csv"
    ]
    column_map = {
        "name": "Title",
        "url": "URL",
        "enrollments": "students count",
        "duration": "course duration",
        "institution": "instructor",
    }

    def parse_row(self, row: dict[str, str], item: Course) -> Course | None:
        item = super().parse_row(row, item)
        extras = {key: " ".join(value.split()) for key, value in item.get("extras", {}).items()}
        if match := COUNT_AND_LABEL.match(row.get("lessions count", "")):
            extras["lessons"] = int(match.group(1).replace(",", ""))
        if match := COUNT_AND_LABEL.match(row.get("student projects", "")):
            extras["student_projects"] = int(match.group(1).replace(",", ""))
        tags = {}
        for column in REVIEW_TAG_COLUMNS:
            if match := COUNT_AND_LABEL.match(row.get(column, "")):
                tags[" ".join(match.group(2).split())] = int(match.group(1).replace(",", ""))
            extras.pop(column, None)
        if tags:
            extras["review_tags"] = tags
        if extras:
            item["extras"] = extras
        return item
