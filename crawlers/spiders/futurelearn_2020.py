from urllib.parse import quote_plus

from crawlers.api_spider import JsonApiSpider
from crawlers.dataset_spider import slugify


def futurelearn_search_url(title: str) -> str:
    return f"https://www.futurelearn.com/search?q={quote_plus(title)}"


class Futurelearn2020Spider(JsonApiSpider):
    """736 FutureLearn courses as listed in April 2020, one JSON list: college, title, one-line
    description, length ("4 weeks") and effort ("4 hrs/week").

    The data holds no course URL or id: the `provider_ref` is the title's slug (titles are unique
    in the file) and the `url` FutureLearn's search for the exact title, the only stable URL the
    data allows. The college (a partnership: "University of Strathclyde & CELCIS") is the
    `institution`. FutureLearn's courses lead to its certificate; the data states no price, so the
    access model stays unknown.
    """

    name = "futurelearn_2020"
    allowed_domains = ["raw.githubusercontent.com"]
    provider = "FutureLearn"
    start_urls = [
        "https://raw.githubusercontent.com/shuyttr/FutureLearnCourseNetwork/"
        "4f3616983ee80925422eec71d214c84299a997d8/future_learn_courses.json"
    ]
    field_map = {
        "provider_ref": lambda course: slugify(course.get("title") or "") or None,
        "name": "title",
        "url": lambda course: futurelearn_search_url(course["title"].strip()) if course.get("title") else None,
        "institution": "college",
        "description": "description",
        "duration": "hours",
        "weeks": "weeks",
    }
    defaults = {"credential": "Certificate of Achievement"}
