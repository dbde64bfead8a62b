import re

from crawlers.dataset_spider import CsvDatasetSpider
from crawlers.items import Course

# The scrape wrote its course types into titles and links in place of the words they were made
# from: "diploma in cyber security" became " Diploma course in cyber security" (and the link
# ".../course/ Diploma course-in-cyber-security"), "leaving certificate" "leaving  Certification course".
MANGLED_WORDS = ((re.compile(r"\s*Diploma course"), "diploma"), (re.compile(r"\s*Certification course"), "certificate"))
# Titles are course slugs with spaces: apostrophes are lost ("let s encrypt", "don t").
LOST_APOSTROPHE = re.compile(r"(?<=\w) (s|t)(?= |$)")
CONTRACTED = re.compile(r"(?:do|does|did|can|won|is|are|was|were|should|could|would|have|has)n$")


def repair_title(title: str) -> str:
    """ " Diploma course in gdpr and data protection" → "diploma in gdpr and data protection";
    "exploring and installing let s encrypt" → "... let's encrypt"."""
    for mangled, word in MANGLED_WORDS:
        title = mangled.sub(" " + word, title)
    title = " ".join(title.split())

    def apostrophe(match: re.Match[str]) -> str:
        before = title[: match.start()].rsplit(" ", 1)[-1]
        if match.group(1) == "s" or CONTRACTED.search(before):
            return "'" + match.group(1)
        return match.group(0)

    return LOST_APOSTROPHE.sub(apostrophe, title)


def repair_link(link: str) -> str:
    """The course page without the in-page anchor and with the slug it had:
    "https://alison.com/course/ Diploma course-in-cyber-security#l-main-pub" →
    "https://alison.com/course/diploma-in-cyber-security"."""
    link = link.split("#", 1)[0]
    for mangled, word in MANGLED_WORDS:
        link = mangled.sub(word, link)
    return link.strip().replace(" ", "-")


class AlisonSpider(CsvDatasetSpider):
    """5,725 rows of Alison's free courses (4,940 course links; a course listed under several
    categories repeats): title, publisher, learners, link, the first learning outcomes (cut short
    by the scrape), course type and category. Alison is free to learn: `is_free` on every item.

    Titles come lower case (the normaliser gives them back their case) and, like links, with the
    course type written over the words "diploma" and "certificate" (`repair_title`,
    `repair_link`). Learner counts use Indian digit grouping ("1,67,409"). The type, "Certification
    course" or "Diploma course", is the credential term; the publisher is the `institution`; the
    `provider_ref` is the course slug of the repaired link.
    """

    name = "alison"
    allowed_domains = ["raw.githubusercontent.com"]
    provider = "Alison"
    start_urls = [
        "https://raw.githubusercontent.com/Gugan-23/Cloud-computing-certificate-recommendation-system/"
        "c2c1a38dc7926b2ae49ec2de06a21d3c2d6c8249/alison.csv"
    ]
    column_map = {
        "name": "Name Of The Course",
        "institution": "Institute",
        "enrollments": "Number of learners",
        "url": "Link",
        "description": "Description",
        "credential": "Type",
        "subjects": "Category",
    }
    list_fields = ("subjects",)
    defaults = {"is_free": True}

    def parse_row(self, row: dict[str, str], item: Course) -> Course | None:
        if item.get("name"):
            item["name"] = repair_title(item["name"])
        if item.get("url"):
            item["url"] = repair_link(item["url"])
            item["provider_ref"] = item["url"].rstrip("/").rsplit("/", 1)[-1]
        return item
