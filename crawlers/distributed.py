"""One crawl spread over several worker processes or machines: scrapy-redis, plus leases.

Every worker runs the same spider with `apply_distributed(settings, redis_url)` over the project
settings. One Redis holds the shared request queue and the shared dupefilter (scrapy-redis), so a
URL that any worker finds is crawled once, by whichever worker is free. The single-process path
(`crawlers.runner.run_crawl`) never imports this module.

scrapy-redis pops a request from the queue and forgets it: a worker that dies (SIGKILL, a lost
machine) loses every request it held. Here a pop *leases* the request instead: it moves, in one
Redis command, to the worker's own list `<spider>:leases:<worker>`, and leaves it when the
response and every item it gave have been handled. Each worker refreshes a heartbeat key with a
TTL; whichever worker sees a heartbeat lapse moves that worker's leases back to the queue.
Delivery is therefore at least once: a page the dead worker fetched but had not finished is
fetched again. Items are stored in Redis keyed by their id (`HSETNX <spider>:items`), so a page
crawled twice cannot add an item twice; duplicates are counted in `<spider>:items:duplicates`.

The request serialiser is scrapy-redis's pickle: keep Redis on a private network with a password
(`redis://:PASSWORD@host:6379/0`), as anyone who can write to the queue can run code on a worker.
"""

from __future__ import annotations

import json
import os
import socket
from collections import Counter
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.settings import BaseSettings
from scrapy_redis import connection
from scrapy_redis.queue import FifoQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import Settings

LEASE = "skillstack_lease"  # request.meta key: the queue entry this request was popped as
QUEUE_KEY = "%(spider)s:requests"
LEASES_KEY = "{spider}:leases:{worker}"
HEARTBEAT_KEY = "{spider}:workers:{worker}"
ITEMS_KEY = "{spider}:items"
DUPLICATES_KEY = "{spider}:items:duplicates"


def apply_distributed(settings: Settings, redis_url: str, worker_id: str | None = None) -> Settings:
    """Turn project settings into a worker's: shared queue, dupefilter, leases, items into Redis.

    crawl.duckdb has one writer, so a worker does not write it: items go to `<spider>:items`.
    """
    settings.set("SCHEDULER", "crawlers.distributed.LeasingScheduler", priority="cmdline")
    settings.set("SCHEDULER_QUEUE_CLASS", "crawlers.distributed.LeasedQueue", priority="cmdline")
    settings.set("SCHEDULER_QUEUE_KEY", QUEUE_KEY, priority="cmdline")
    settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", priority="cmdline")
    # The queue and dupefilter are shared: a worker that finishes first must not flush them.
    settings.set("SCHEDULER_PERSIST", True, priority="cmdline")
    settings.set("REDIS_URL", redis_url, priority="cmdline")
    settings.set("SKILLSTACK_WORKER_ID", worker_id or f"{socket.gethostname()}-{os.getpid()}", priority="cmdline")
    settings.setdefault("SKILLSTACK_LEASE_TTL", 30.0)
    extensions = {**settings.getdict("EXTENSIONS"), "crawlers.distributed.LeaseKeeper": 200}
    settings.set("EXTENSIONS", extensions, priority="cmdline")
    middlewares = {**settings.getdict("SPIDER_MIDDLEWARES"), "crawlers.distributed.LeaseMiddleware": 50}
    settings.set("SPIDER_MIDDLEWARES", middlewares, priority="cmdline")
    pipelines = {
        **settings.getdict("ITEM_PIPELINES"),
        "crawlers.pipelines.write_crawl_db.WriteCrawlDbPipeline": None,
        "crawlers.distributed.RedisItemStorePipeline": 900,
    }
    settings.set("ITEM_PIPELINES", pipelines, priority="cmdline")
    return settings


def reset(redis_url: str, spider: str) -> int:
    """Forget a finished crawl of `spider`: its queue, dupefilter, leases, heartbeats and items.

    The dupefilter outlives the workers (it must, while any of them still runs), so without a reset
    the next crawl of the source would find every URL already seen. Returns how many keys went.
    """
    server = connection.from_settings(BaseSettings({"REDIS_URL": redis_url}))
    keys = [QUEUE_KEY % {"spider": spider}, f"{spider}:dupefilter", ITEMS_KEY.format(spider=spider)]
    keys.append(DUPLICATES_KEY.format(spider=spider))
    for pattern in (LEASES_KEY, HEARTBEAT_KEY):
        keys.extend(server.scan_iter(match=pattern.format(spider=spider, worker="*")))
    return server.delete(*keys)


def _worker(settings: Settings) -> str:
    return settings.get("SKILLSTACK_WORKER_ID") or f"{socket.gethostname()}-{os.getpid()}"


class LeasedQueue(FifoQueue):
    """scrapy-redis's FIFO queue whose pop moves the entry to this worker's lease list."""

    def __init__(self, server, spider: Spider, key: str, serializer=None):
        super().__init__(server, spider, key, serializer)
        self.leases_key = LEASES_KEY.format(spider=spider.name, worker=_worker(spider.settings))

    def pop(self, timeout: int = 0):
        # The queue is LPUSHed, so its oldest entry is on the right.
        data = self.server.lmove(self.key, self.leases_key, "RIGHT", "LEFT")
        if not data:
            return None
        request = self._decode_request(data)
        request.meta[LEASE] = data
        return request


class LeasingScheduler(Scheduler):
    """A retry or redirect of a leased request takes its place in the queue, then frees the lease."""

    def enqueue_request(self, request) -> bool:
        lease = request.meta.pop(LEASE, None)
        queued = super().enqueue_request(request)
        if lease is not None and ("retry_times" in request.meta or "redirect_times" in request.meta):
            self.server.lrem(self.queue.leases_key, 1, lease)
        return queued


class LeaseKeeper:
    """Heartbeat, freeing leases when their work is done, requeueing the leases of dead workers, and
    keeping an idle worker open while any other worker may still add requests."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.server = connection.from_settings(crawler.settings)
        self.worker = _worker(crawler.settings)
        self.ttl_ms = int(crawler.settings.getfloat("SKILLSTACK_LEASE_TTL") * 1000)
        self.items_pending: Counter[bytes] = Counter()  # lease -> items yielded and not yet handled
        self.output_done: set[bytes] = set()  # leases whose callback has returned all its output
        self.beat: task.LoopingCall | None = None
        self.spider_name = ""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeaseKeeper:
        keeper = cls(crawler)
        crawler.signals.connect(keeper.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(keeper.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(keeper.spider_closed, signal=signals.spider_closed)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(keeper.item_handled, signal=signal)
        return keeper

    def key(self, template: str, worker: str | None = None) -> str:
        return template.format(spider=self.spider_name, worker=self.worker if worker is None else worker)

    def spider_opened(self, spider: Spider) -> None:
        self.spider_name = spider.name
        self.beat = task.LoopingCall(self.heartbeat)
        self.beat.start(self.ttl_ms / 1000 / 4, now=True)

    def heartbeat(self) -> None:
        self.server.set(self.key(HEARTBEAT_KEY), "alive", px=self.ttl_ms)
        self.requeue_dead()

    def requeue_dead(self) -> int:
        """Move the leases of every worker whose heartbeat lapsed back to the queue."""
        moved = 0
        prefix = self.key(LEASES_KEY, worker="")
        queue = QUEUE_KEY % {"spider": self.spider_name}
        for raw in self.server.scan_iter(match=prefix + "*"):
            leases = raw.decode() if isinstance(raw, bytes) else raw
            worker = leases.removeprefix(prefix)
            if worker == self.worker or self.server.exists(self.key(HEARTBEAT_KEY, worker)):
                continue
            # One entry per LMOVE: two workers reaping the same list can never move one entry twice.
            while self.server.lmove(leases, queue, "RIGHT", "RIGHT"):
                moved += 1
        if moved:
            self.crawler.stats.inc_value("skillstack/distributed/requeued", moved)
        return moved

    def output_started(self, lease: bytes) -> None:
        self.output_done.discard(lease)

    def item_yielded(self, lease: bytes) -> None:
        self.items_pending[lease] += 1

    def output_finished(self, lease: bytes) -> None:
        self.output_done.add(lease)
        self._release_if_done(lease)

    def item_handled(self, item: Any, response: Response | None = None, **kwargs: Any) -> None:
        lease = response.meta.get(LEASE) if response is not None else None
        if lease is None or lease not in self.items_pending:
            return
        self.items_pending[lease] -= 1
        self._release_if_done(lease)

    def _release_if_done(self, lease: bytes) -> None:
        if lease in self.output_done and self.items_pending[lease] <= 0:
            self.output_done.discard(lease)
            del self.items_pending[lease]
            self.server.lrem(self.key(LEASES_KEY), 1, lease)

    def spider_idle(self, spider: Spider) -> None:
        # Idle: nothing of this worker is downloading or being parsed, so whatever it still holds a
        # lease on (a request that ended in an error, a dropped one) is finished.
        self.server.delete(self.key(LEASES_KEY))
        self.requeue_dead()
        queue = QUEUE_KEY % {"spider": self.spider_name}
        others_busy = any(self.server.llen(key) for key in self.server.scan_iter(match=self.key(LEASES_KEY, "*")))
        if self.server.llen(queue) or others_busy:
            raise DontCloseSpider

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.beat is not None and self.beat.running:
            self.beat.stop()
        if reason == "finished":
            self.server.delete(self.key(LEASES_KEY))
        self.server.delete(self.key(HEARTBEAT_KEY))


class LeaseMiddleware:
    """Tells the LeaseKeeper what a leased response gave: how many items, and when it is all out."""

    def __init__(self, keeper: LeaseKeeper):
        self.keeper = keeper

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeaseMiddleware:
        keeper = next(ext for ext in crawler.extensions.middlewares if isinstance(ext, LeaseKeeper))
        return cls(keeper)

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        lease = response.meta.get(LEASE)
        if lease is not None:
            self.keeper.output_started(lease)
        async for element in result:
            if lease is not None and not isinstance(element, Request):
                self.keeper.item_yielded(lease)
            yield element
        if lease is not None:
            self.keeper.output_finished(lease)


class RedisItemStorePipeline:
    """Items into the hash `<spider>:items`, keyed by `id` (else `url`): the first copy wins."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.server = connection.from_settings(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisItemStorePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        record = dict(item)
        name = self.crawler.spider.name
        key = str(record.get("id") or record.get("url"))
        if self.server.hsetnx(ITEMS_KEY.format(spider=name), key, json.dumps(record, default=str)):
            self.crawler.stats.inc_value("skillstack/distributed/items_stored")
        else:
            self.server.incr(DUPLICATES_KEY.format(spider=name))
            self.crawler.stats.inc_value("skillstack/distributed/items_duplicate")
        return item
