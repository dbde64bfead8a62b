from parsel import Selector

from crawlers.api_spider import ApiPage, NextLink, XmlApiSpider
from crawlers.items import Course

# The feed's yes/no flags, "1" or "0".
FLAGS = ("verified", "xseries", "highschool", "profed")


class EdxRssSpider(XmlApiSpider):
    """edX's retired course feed: RSS 2.0 with a `course:` namespace, one `<item>` per course run.

    The `provider_ref` is the run id (`course:id`, "course-v1:MITx+21W.789.4x+1T2016"), the
    `institution` the school code (`course:school`, "MITx"), `duration` and `weeks` the feed's
    effort and length texts. `course:self_paced` ("0"/"1") becomes `course_mode` in the pacing
    words of the edX catalogue API ("instructor_paced"/"self_paced"); `course:verified` = "1" makes
    the `credential` "verified". The run's dates, course code, subtitle (HTML), instructors and
    the raw flags go to extras. Pages are linked with `atom:link rel="next"`. The mirror holds a
    real feed cut to one item.
    """

    name = "edx_rss"
    allowed_domains = ["www.edx.org"]
    provider = "edX"
    start_urls = ["https://www.edx.org/api/v2/report/course-feed/rss"]
    namespaces = {
        "course": "https://www.edx.org/api/course/elements/1.0/",
        "staff": "https://www.edx.org/api/staff/elements/1.0/",
        "atom": "http://www.w3.org/2005/Atom",
    }
    records_path = "//channel/item"
    pagination = NextLink("/rss/channel/atom:link[@rel='next']/@href")
    field_map = {
        "provider_ref": "course:id",
        "name": "title",
        "description": "description",
        "url": "link",
        "institution": "course:school",
        "subjects": "course:subject",
        "duration": "course:effort",
        "weeks": "course:length",
        "date_modified": "pubDate",
    }
    extras_map = {
        "code": "course:code",
        "subtitle": "course:subtitle",
        "start": "course:start",
        "end": "course:end",
        "created": "course:created",
        "prerequisites": "course:prerequisites",
        "instructors": "course:instructors/course:staff/staff:name",
        "guid": "guid",
        **{flag: f"course:{flag}" for flag in FLAGS},
    }
    list_fields = ("skills_declared", "subjects", "instructors")

    def parse_record(self, record: Selector, item: Course, page: ApiPage) -> Course | None:
        self_paced = self.select(record, "course:self_paced")
        if self_paced in ("0", "1"):
            item["course_mode"] = "self_paced" if self_paced == "1" else "instructor_paced"
        if item.get("extras", {}).get("verified") == "1":
            item["credential"] = "verified"
        return item
