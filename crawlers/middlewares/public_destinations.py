"""Requests go to the public web only: http(s) to hosts whose addresses are global.

A URL the crawl did not write (a sitemap's `<loc>`, an API's `next`, a redirect's `Location`) can
name `file:///etc/passwd`, the cloud metadata service at `http://169.254.169.254/`, or a machine of
the private network the crawler runs in. Scrapy's file, s3, ftp and data handlers are switched off
(DOWNLOAD_HANDLERS), and the spiders declare `allowed_domains`; this middleware is the last word:
it refuses a request whose scheme is not http or https, or whose host is, or resolves to, an address
that is not global (private, loopback, link-local, shared, reserved, multicast). The host is
resolved through the reactor's resolver, whose cache the connection then uses, so the address
checked is the address connected to (unless the cache entry expires in between).

A refused request fails with IgnoreRequest, so its errback reports it as an unavailable page; it is
counted as `skillstack/destinations/refused`. With `SKILLSTACK_MIRROR` set nothing leaves the
machine and names are not resolved (an address written in the URL is still checked).

`SKILLSTACK_ALLOW_PRIVATE_HOSTS` lists hosts let through all the same: the tests' and the
benchmark's servers on 127.0.0.1 (their spiders set it in `custom_settings`). Empty in a real crawl.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached

from skillstack.settings import mirror_dir

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

WEB_SCHEMES = frozenset({"http", "https"})
REFUSED_STAT = "skillstack/destinations/refused"


def non_public_reason(address: str) -> str | None:
    """Why an IP address is not on the public internet ("private", "loopback"...); None when it is."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_global and not ip.is_multicast:
        return None
    for kind in ("loopback", "link_local", "private", "multicast", "unspecified", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return "not global"


class PublicDestinationsMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.allowed_hosts = frozenset(crawler.settings.getlist("SKILLSTACK_ALLOW_PRIVATE_HOSTS"))
        self.resolve_names = mirror_dir() is None
        # A host's verdict, once resolved: the reactor's resolver caches its answer as long.
        self._verdicts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        url = urlparse_cached(request)
        if url.scheme not in WEB_SCHEMES:
            self._refuse(request, f"the scheme {url.scheme!r} is not http(s)")
        host = (url.hostname or "").strip("[]")
        if not host:
            self._refuse(request, "it names no host")
        if host in self.allowed_hosts:
            return
        if host not in self._verdicts:
            self._verdicts[host] = await self._verdict(host)
        if self._verdicts[host]:
            self._refuse(request, self._verdicts[host])

    async def _verdict(self, host: str) -> str | None:
        try:
            reason = non_public_reason(host)
        except ValueError:
            pass  # a name, not an address
        else:
            return f"{host} is a {reason} address" if reason else None
        if not self.resolve_names:
            return None
        try:
            address = await self.resolve(host)
        except Exception:  # noqa: BLE001 (a name that does not resolve fails as its download would)
            return None
        reason = non_public_reason(address)
        return f"{host} resolves to {address}, a {reason} address" if reason else None

    async def resolve(self, host: str) -> str:
        """The address the download will connect to, from the reactor's (caching) resolver."""
        from twisted.internet import reactor

        return await maybe_deferred_to_future(reactor.resolve(host))

    def _refuse(self, request: Request, why: str) -> None:
        self.crawler.stats.inc_value(REFUSED_STAT)
        logger.log(
            logging.WARNING if request.errback is not None else logging.ERROR,
            "Refused %(url)s: %(why)s",
            {"url": request.url, "why": why},
            extra={"spider": self.crawler.spider},
        )
        raise IgnoreRequest(f"refused {request.url}: {why}")
