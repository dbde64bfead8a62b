from crawlers.sitemap_spider import CourseSitemapSpider
from crawlers.structured_data_spider import StructuredDataSpider


class SkillshareSpider(CourseSitemapSpider, StructuredDataSpider):
    """Skillshare class pages (`/classes/<slug>/<id>`, also under a language prefix such as `/en/`);
    `provider_ref` is the numeric class id that ends the URL.

    Discovery starts from the sitemaps skillshare.com's robots.txt declares and follows the class
    sitemaps, `/sitemap/classes/<n>` (the name public scrapers of Skillshare read). We hold no
    capture of Skillshare: the tests run this spider on the real Course JSON-LD pages we do hold
    (Udemy's and real.discount's), which exercise the same base.
    """

    name = "skillshare"
    allowed_domains = ["skillshare.com"]
    provider = "Skillshare"
    sitemap_urls = ["https://www.skillshare.com/robots.txt"]
    sitemap_follow = [r"/sitemap/classes/"]
    sitemap_rules = [(r"/classes/[^/?#]+/\d+/?$", "parse")]
