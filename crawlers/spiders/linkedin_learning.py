from crawlers.sitemap_spider import CourseSitemapSpider
from crawlers.structured_data_spider import StructuredDataSpider


class LinkedinLearningSpider(CourseSitemapSpider, StructuredDataSpider):
    """LinkedIn Learning course pages (`/learning/<course-slug>`); `provider_ref` is the slug.

    Discovery follows the sitemaps that linkedin.com's robots.txt declares (the robots.txt
    convention: we found no public record of LinkedIn Learning's own sitemap URL) and, in sitemap
    indexes, only the learning sitemaps. Course pages are one path segment under `/learning/`;
    videos (`/learning/<course>/<video>`), paths, topics and instructors are not courses.

    We hold no capture of LinkedIn Learning: the tests run this spider on the real Course JSON-LD
    pages we do hold (Udemy's and real.discount's), which exercise the same base.
    """

    name = "linkedin_learning"
    allowed_domains = ["linkedin.com"]
    provider = "LinkedIn Learning"
    sitemap_urls = ["https://www.linkedin.com/robots.txt"]
    sitemap_follow = [r"learning"]
    sitemap_rules = [
        (r"/learning/(?!(?:paths|topics|instructors|browse|search|subscription|me|certificates)/?$)[^/?#]+/?$", "parse")
    ]
