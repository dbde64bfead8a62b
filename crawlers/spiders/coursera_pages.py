from crawlers.sitemap_spider import CourseSitemapSpider
from crawlers.structured_data_spider import StructuredDataSpider


class CourseraPagesSpider(CourseSitemapSpider, StructuredDataSpider):
    """Coursera course pages (`/learn/<slug>`), from Coursera's course sitemap; `provider_ref` is the slug.

    The course's JSON-LD `provider`, when it names a university or company rather than Coursera,
    becomes the `institution`. The mirror holds the sitemap (January 2017, 1,959 `/learn/` URLs) but
    none of the pages: offline each page is a 404, counted as an error of the source.
    """

    name = "coursera_pages"
    allowed_domains = ["coursera.org"]
    provider = "Coursera"
    sitemap_urls = ["https://www.coursera.org/sitemap~www~courses.xml"]
    sitemap_rules = [(r"/learn/[^/?#]+/?$", "parse")]
