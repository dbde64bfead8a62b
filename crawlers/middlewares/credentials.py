"""Credentials are put on a request as it leaves for the network, and only for the source's own https hosts.

A spider that needs credentials (`ApiSpider.credentials_env`) used to build every request with them,
the ones its payload names (a `next` link) included: whatever that link's host or scheme, the token
went with it, in cleartext over http, to another host, and pickled with the request into the HTTP
cache or the distributed crawl's Redis queue. Now no request object carries them. This middleware,
the last before the download handler, adds the spider's `credential_headers()` when the request is
https and its host one of the spider's `credential_hosts()`, and takes them off again when the
response or the failure comes back, before any other middleware (the cache, retries, redirects)
can copy or store the request. A request that may not have them goes without: it is counted
(`skillstack/credentials/withheld`) and logged as a warning, and the server's refusal (401) is
handled as any unavailable page is.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

WITHHELD_STAT = "skillstack/credentials/withheld"


class CredentialsMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        headers = spider.credential_headers() if hasattr(spider, "credential_headers") else {}
        if not headers:
            return
        self._strip(request, headers)  # whatever set them earlier, only this decides
        url = urlparse_cached(request)
        if url.scheme == "https" and url.hostname in spider.credential_hosts():
            request.headers.update(headers)
            return
        self.crawler.stats.inc_value(WITHHELD_STAT)
        logger.warning(
            "Credentials withheld from %(url)s: sent only over https to %(hosts)s",
            {"url": request.url, "hosts": ", ".join(sorted(spider.credential_hosts()))},
            extra={"spider": spider},
        )

    def process_response(self, request: Request, response: Response) -> Response:
        self._strip(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._strip(request)

    def _strip(self, request: Request, headers: dict[str, str] | None = None) -> None:
        spider = self.crawler.spider
        if headers is None:
            headers = spider.credential_headers() if hasattr(spider, "credential_headers") else {}
        for name in headers:
            request.headers.pop(name, None)
