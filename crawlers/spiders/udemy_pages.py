import re

from scrapy.http import Response

from crawlers.items import Course
from crawlers.sitemap_spider import CourseSitemapSpider
from crawlers.structured_data_spider import StructuredDataSpider

# The page states its prices in the currency of the visitor's country, named in its bootstrap data.
PRICE_COUNTRY_CURRENCY = re.compile(r'"price_country":\{[^{}]*?"currency":"([A-Za-z]{3})"')


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
            price = response.xpath('//meta[@property="udemy_com:price"]/@content').get()
            if price:
                item["price"] = price.strip()
                currency = PRICE_COUNTRY_CURRENCY.search(response.text)
                if currency and any(char.isdigit() for char in price):
                    item["currency"] = currency.group(1).upper()
        crumbs = extras.get("breadcrumb", [])
        topics = [crumb["name"] for crumb in crumbs if "/topic/" in crumb.get("url", "")]
        categories = [crumb["name"] for crumb in crumbs if "/courses/" in crumb.get("url", "")]
        if topics:
            item["skills_declared"] = list(dict.fromkeys([*item.get("skills_declared", []), *topics]))
        if categories:
            item["subjects"] = categories
        course_id = response.xpath("//@data-clp-course-id").get()
        if course_id:
            extras["udemy_course_id"] = course_id
        return item
