import re

from scrapy.http import Response

from crawlers.items import Course
from crawlers.sitemap_spider import CourseSitemapSpider
from crawlers.structured_data_spider import StructuredDataSpider, meta_content

# The page states its prices in the currency of the visitor's country, named in its bootstrap data.
# Both are matched at one position, each repetition bounded: no run to the end of a hostile page.
PRICE_COUNTRY_CURRENCY = re.compile(r'"price_country":\{[^{}]{0,2000}?"currency":"([A-Za-z]{3})"')
COURSE_ID = re.compile(r"""data-clp-course-id\s{0,16}=\s{0,16}["']?(\d{1,20})""")


class UdemyPagesSpider(CourseSitemapSpider, StructuredDataSpider):
    """Udemy course pages (`/course/<slug>/`), found through Udemy's sitemap index.

    The index lists about 3,955 sitemaps (navigation, topics, instructors...); only the course
    sitemaps (`/sitemap/courses.xml?p=N`) are followed. Udemy's JSON-LD names the instructor as
    `provider` and Udemy as `publisher`: the provider is "Udemy" and the instructors go to extras
    `instructors`. Its `ratingValue` is a string ("4.5"). The JSON-LD has no offer, so the price is
    the page's `udemy_com:price` meta tag ("$199.99", "Free"), in the currency the page's bootstrap
    data names. The breadcrumb's topic (`/topic/...`, e.g. "Copywriting") is Udemy's skill tag →
    skills_declared; its category and subcategory → subjects. The `provider_ref` is the course
    slug; Udemy's numeric course id is kept in extras `udemy_course_id`.

    The mirror holds the index (its child sitemaps are not captured) and three course pages
    (2022-2023), reachable with `skillstack crawl udemy_pages --url https://www.udemy.com/course/<slug>/`.
    """

    name = "udemy_pages"
    allowed_domains = ["udemy.com"]
    provider = "Udemy"
    sitemap_urls = ["https://www.udemy.com/sitemap.xml"]
    sitemap_follow = [r"/sitemap/courses\.xml"]
    sitemap_rules = [(r"/course/[^/?#]+/?$", "parse")]

    def post_process_item(self, item: Course, response: Response, course_ld: dict) -> Course | None:
        extras = item.setdefault("extras", {})
        # Udemy's JSON-LD `provider` is the instructor, not an institution.
        instructor = item.pop("institution", None)
        if instructor:
            extras["instructors"] = list(dict.fromkeys([instructor, *extras.get("instructors", [])]))
        if "price" not in item:
            price = meta_content(response.text, "property", "udemy_com:price")
            if price:
                item["price"] = price.strip()
                # Searched from its key: a pattern scan of the whole ~200 kB page costs more than the parse.
                key = response.text.find('"price_country"')
                currency = PRICE_COUNTRY_CURRENCY.match(response.text, key) if key != -1 else None
                if currency and any(char.isdigit() for char in price):
                    item["currency"] = currency.group(1).upper()
        crumbs = extras.get("breadcrumb", [])
        topics = [crumb["name"] for crumb in crumbs if "/topic/" in crumb.get("url", "")]
        categories = [crumb["name"] for crumb in crumbs if "/courses/" in crumb.get("url", "")]
        if topics:
            item["skills_declared"] = list(dict.fromkeys([*item.get("skills_declared", []), *topics]))
        if categories:
            item["subjects"] = categories
        # Patterns, not XPath, over the page: see crawlers.structured_data_spider.json_ld_scripts.
        key = response.text.find("data-clp-course-id")
        course_id = COURSE_ID.match(response.text, key) if key != -1 else None
        if course_id:
            extras["udemy_course_id"] = course_id.group(1)
        return item
