import re

from crawlers.dataset_spider import XlsxDatasetSpider
from crawlers.items import Course

LIL_DATA = "https://raw.githubusercontent.com/Ozeidi/LiL_Scraper/684adc4da1fb62f38a0757bff8948d629502756c/data/"
# "Instructor Adam Wilbert LinkedIn Learning Instructor and Lynda.com Author Adam Wilbert is a ...":
# the page's instructor card, the name given twice around the headline.
INSTRUCTOR_CARD = re.compile(r"^\s*Instructors?\s+(.*)$", re.DOTALL)


def instructor_name(card: str) -> str | None:
    """The name on an instructor card: the longest run of its first words (up to four) that the
    card repeats, at least two words ("Instructor John Johnson Economist ... John H. Johnson is"
    repeats only "John": "John Johnson")."""
    match = INSTRUCTOR_CARD.match(card or "")
    if not match:
        return None
    words = match.group(1).split()
    name_words = 2
    for length in range(min(4, len(words) - 1), 0, -1):
        after = " ".join(words[length:])
        if re.search(rf"(?<!\w){re.escape(' '.join(words[:length]))}(?!\w)", after):
            name_words = max(length, 2)
            break
    return " ".join(words[:name_words]) or None


class LinkedinLearning2021Spider(XlsxDatasetSpider):
    """91 rows of a 2021 scrape of LinkedIn Learning's database and data courses (68 courses; 23 rows
    repeat one), an Excel workbook: title, length in minutes ("134m"), level ("Beginner ", with a
    trailing space), table of contents, description and the instructor's card. The course URLs are
    in a second file, one per line in the rows' order (`url_list`); the `provider_ref` is the
    course slug ending the URL.

    LinkedIn Learning courses are watched with a subscription and give a certificate of completion:
    every item says so. The instructor's name, read from the card, is the `institution`; the card
    and the table of contents stay in extras.
    """

    name = "linkedin_learning_2021"
    data_date = "2021"
    allowed_domains = ["raw.githubusercontent.com"]
    provider = "LinkedIn Learning"
    start_urls = [LIL_DATA + "courses.xlsx"]
    url_list = LIL_DATA + "LiL_URLs.csv"
    sheet = "Sheet 1"
    column_map = {
        "name": "Title",
        "duration": "Duration",
        "level": "Level",
        "description": "Description",
        "url": "url",
    }
    defaults = {"credential": "Certificate of completion", "price": "LinkedIn Learning subscription"}

    def parse_row(self, row: dict[str, str], item: Course) -> Course | None:
        if item.get("url"):
            item["provider_ref"] = item["url"].rstrip("/").rsplit("/", 1)[-1]
        if name := instructor_name(row.get("Instructer", "")):
            item["institution"] = name
        return item
