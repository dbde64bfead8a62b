from typing import Any
from urllib.parse import urlsplit

from crawlers.structured_data_spider import StructuredDataSpider


class JsonldGenericSpider(StructuredDataSpider):
    """Any page with schema.org Course JSON-LD: coupon sites, course catalogues, provider pages.

    Pass the pages as `urls` (`skillstack crawl jsonld_generic --url URL ...`); by default it reads
    the one such page the mirror holds, a real.discount coupon page (2021). The provider is the
    page's own Course `provider` ("Wesley Thijs | Udemy" there). The pages come from any site, so
    the `provider_ref` is the host and path, with `:` for `/`.
    """

    name = "jsonld_generic"
    allowed_domains = ["www.real.discount"]
    start_urls = ["https://www.real.discount/offer/burp-suite-in-depth-survival-guide-4734"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Pages of any site: the sites allowed are those of the pages given.
        if self.urls:
            self.allowed_domains = sorted({urlsplit(url).hostname for url in self.urls if urlsplit(url).hostname})

    def provider_ref_for(self, url: str, course_ld: dict) -> str | None:
        parts = urlsplit(url)
        path = ":".join(segment for segment in parts.path.split("/") if segment)
        return f"{parts.hostname}:{path}" if path else parts.hostname
