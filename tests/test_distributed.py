"""One crawl over two worker processes sharing a Redis request queue and dupefilter (scrapy-redis +
crawlers/distributed.py), one of them SIGKILLed midway: every page still gives exactly one item.

The test starts Debian's `redis-server` on a free 127.0.0.1 port (no persistence) and a local HTTP
server of N linked pages, each answered after a short delay so the crawl is still under way when a
worker dies. Workers are real processes: `python -m tests.test_distributed REDIS_URL WORKER`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy_redis.spiders import RedisSpider

from bench.local_server import Exchange, LocalServer
from crawlers.distributed import DUPLICATES_KEY, HEARTBEAT_KEY, ITEMS_KEY, LEASES_KEY, QUEUE_KEY, reset

PAGES = 80
PAGE_DELAY_S = 0.3
LEASE_TTL_S = 2.0
WORKERS = ("w1", "w2")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
SPIDER = "distributed_pages"


class DistributedPagesSpider(RedisSpider):
    """Reads its start URL from Redis; the index links every page, each page links the index, the
    first page and the next one, so without the shared dupefilter pages would be crawled again."""

    name = SPIDER
    custom_settings = {
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "HTTPCACHE_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "CONCURRENT_REQUESTS": 4,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
        "MAX_IDLE_TIME_BEFORE_CLOSE": 2,
        "SKILLSTACK_LEASE_TTL": LEASE_TTL_S,
        "LOG_LEVEL": "INFO",
        "SKILLSTACK_ALLOW_PRIVATE_HOSTS": ["127.0.0.1"],
    }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Wait for work however long the other worker takes to start; once it has crawled, close
        # after MAX_IDLE_TIME_BEFORE_CLOSE seconds with nothing to do (RedisSpider counts from here).
        self.spider_idle_start_time = 2**40

    def parse(self, response: Any, **kwargs: Any):
        self.spider_idle_start_time = int(time.time())
        for href in response.css("a::attr(href)").getall():
            yield Request(response.urljoin(href), callback=self.parse)
        if "/page/" in response.url:
            yield {
                "provider_ref": response.url.rsplit("/", 1)[1],
                "url": response.url,
                "name": response.css("h1::text").get(),
                "worker": self.settings.get("SKILLSTACK_WORKER_ID"),
            }


def page_routes() -> dict:
    def page(number: int):
        links = ["/index", "/page/0", f"/page/{(number + 1) % PAGES}"]

        def answer(ex: Exchange) -> None:
            time.sleep(PAGE_DELAY_S)
            body = "".join(f'<a href="{link}">{link}</a>' for link in links)
            ex.send(200, f"<html><body><h1>page {number}</h1>{body}</body></html>".encode(), HTML)

        return answer

    index = "".join(f'<a href="/page/{n}">{n}</a>' for n in range(PAGES)).encode()
    return {"/index": lambda ex: ex.send(200, b"<html><body>" + index + b"</body></html>", HTML)} | {
        f"/page/{n}": page(n) for n in range(PAGES)
    }


HTML = {"Content-Type": "text/html; charset=utf-8"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path: Path):
    import redis

    port = free_port()
    server = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def start_worker(redis_url: str, worker: str, log: Path) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if key != "SKILLSTACK_MIRROR" and "proxy" not in key.lower()}
    env["NO_PROXY"] = "127.0.0.1"
    return subprocess.Popen(
        [sys.executable, "-m", "tests.test_distributed", redis_url, worker],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.02)


@pytest.mark.redis
def test_two_workers_share_the_queue_and_a_killed_workers_requests_are_finished_by_the_other(
    redis_url: str, tmp_path: Path
):
    import redis

    client = redis.Redis.from_url(redis_url)
    with LocalServer(page_routes()) as server:
        logs = {worker: tmp_path / f"{worker}.log" for worker in WORKERS}
        workers = {worker: start_worker(redis_url, worker, logs[worker]) for worker in WORKERS}
        try:
            # Both workers up (heartbeats in Redis) before there is any work, so both take a share.
            wait_for(
                lambda: all(client.exists(HEARTBEAT_KEY.format(spider=SPIDER, worker=w)) for w in WORKERS),
                60,
                "both workers' heartbeats",
            )
            client.lpush(f"{SPIDER}:start_urls", json.dumps({"url": server.url("/index")}))
            victim, survivor = WORKERS
            victim_leases = LEASES_KEY.format(spider=SPIDER, worker=victim)
            items_key = ITEMS_KEY.format(spider=SPIDER)

            def stored_by(worker: str) -> int:
                return sum(json.loads(item)["worker"] == worker for item in client.hvals(items_key))

            # Midway: both workers have stored items, and the victim holds requests in flight.
            wait_for(
                lambda: stored_by(victim) >= 2 and stored_by(survivor) >= 2 and client.llen(victim_leases) > 0,
                30,
                "the crawl to get under way",
            )
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait(timeout=10)
            in_flight_at_kill = client.llen(victim_leases)
            stored_at_kill = client.hlen(items_key)

            assert workers[survivor].wait(timeout=60) == 0, logs[survivor].read_text()[-3000:]
        finally:
            for process in workers.values():
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)

    items = {key.decode(): json.loads(value) for key, value in client.hgetall(items_key).items()}
    # every page, each stored once under its course id
    assert set(items) == {f"{SPIDER}/{n}" for n in range(PAGES)}
    assert sorted(item["url"] for item in items.values()) == sorted(server.url(f"/page/{n}") for n in range(PAGES))
    by_worker = {worker: sum(item["worker"] == worker for item in items.values()) for worker in WORKERS}
    assert by_worker[victim] > 0, by_worker
    assert by_worker[survivor] > 0, by_worker
    assert stored_at_kill < PAGES  # killed midway, so the survivor finished the rest

    # The victim's leases went back to the queue and were finished by the survivor.
    assert in_flight_at_kill > 0
    assert client.llen(victim_leases) == 0
    assert client.llen(QUEUE_KEY % {"spider": SPIDER}) == 0
    survivor_log = logs[survivor].read_text()
    requeued = re.search(r"'skillstack/distributed/requeued': (\d+)", survivor_log)
    assert requeued, survivor_log[-3000:]
    assert int(requeued.group(1)) == in_flight_at_kill

    # The shared dupefilter: each page fetched once, bar the ones the victim had in flight and the
    # survivor fetched again; without it every page would be asked for three times or more.
    fetched = [seen.path for seen in server.seen if seen.path.startswith("/page/")]
    assert set(fetched) == {f"/page/{n}" for n in range(PAGES)}
    assert len(fetched) <= PAGES + in_flight_at_kill
    assert int(client.get(DUPLICATES_KEY.format(spider=SPIDER)) or 0) <= in_flight_at_kill

    # The shared state outlives the workers; the next crawl of the source starts from a reset.
    assert reset(redis_url, SPIDER) >= 2  # the dupefilter and the items at least
    assert client.keys(f"{SPIDER}:*") == []


def run_worker(redis_url: str, worker: str) -> None:
    from scrapy.crawler import CrawlerProcess

    from crawlers.distributed import apply_distributed
    from crawlers.runner import crawler_settings

    settings = apply_distributed(crawler_settings(), redis_url, worker)
    process = CrawlerProcess(settings)
    process.crawl(DistributedPagesSpider)
    process.start()


if __name__ == "__main__":
    run_worker(*sys.argv[1:3])
