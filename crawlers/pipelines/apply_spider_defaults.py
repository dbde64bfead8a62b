"""Fill in what is the same for every item of a spider, never overriding what the spider set."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler


class ApplySpiderDefaultsPipeline:
    """`source` = the spider's name, `provider` = the spider's `provider` attribute,
    `id` = `<source>/<provider_ref>`."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        spider = self.crawler.spider
        if not item.get("source"):
            item["source"] = spider.name
        provider = getattr(spider, "provider", None)
        if provider and not item.get("provider"):
            item["provider"] = provider
        if not item.get("id") and item.get("provider_ref"):
            item["id"] = f"{item['source']}/{item['provider_ref']}"
        return item
