"""Scrapy settings of the skillstack crawlers.

Paths that depend on `SKILLSTACK_HOME` (the HTTP cache, crawl.duckdb) and the run id are set by
`crawlers.runner` at run time, not here, because this module is imported once and HOME may change.
"""

from skillstack.settings import USER_AGENT

BOT_NAME = "skillstack"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# Politeness: identify ourselves, obey robots.txt, let AutoThrottle adapt to each server.
USER_AGENT = USER_AGENT
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
# Scrapy retries at once; ours waits BASE × 2^(n-1) s (with jitter) before the n-th retry, and at
# least what `Retry-After` asks on 429/503, never more than MAX (a longer Retry-After is a give-up).
SKILLSTACK_RETRY_BACKOFF_BASE = 1.0
SKILLSTACK_RETRY_BACKOFF_MAX = 60.0
DOWNLOADER_MIDDLEWARES = {
    # Requests outside a spider's `allowed_domains` are dropped as Scrapy does, and the run marked partial.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawlers.middlewares.offsite_partial.PartialOffsiteMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.retry_backoff.BackoffRetryMiddleware": 550,
    # Above RedirectMiddleware (600): a redirect loop fails its request instead of vanishing.
    "crawlers.middlewares.redirect_loop.RedirectLoopMiddleware": 610,
    # Right after OffsiteMiddleware (50), before robots.txt is asked for: a request to a private,
    # loopback or link-local address, or by a scheme other than http(s), is refused.
    "crawlers.middlewares.public_destinations.PublicDestinationsMiddleware": 60,
    # Last before the download handler: credentials are on a request only while it is sent.
    "crawlers.middlewares.credentials.CredentialsMiddleware": 990,
}

# The largest dataset CSV is about 2 MB and a course page or API page tens of kB: a response past
# 32 MB is not a catalogue (a runaway or hostile server), so it is cancelled, not retried, and
# counted as an error of its source. 8 MB already deserves a warning in the log.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
DOWNLOAD_TIMEOUT = 60

# RFC 2616 policy: re-crawls revalidate with the server instead of trusting a fixed expiry.
# HTTPCACHE_DIR is set by the runner (under SKILLSTACK_HOME).
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "scrapy.extensions.httpcache.RFC2616Policy"
HTTPCACHE_STORAGE = "scrapy.extensions.httpcache.FilesystemCacheStorage"
HTTPCACHE_IGNORE_HTTP_CODES = [429, 500, 502, 503, 504]

# Only the web: a sitemap or an API link naming file://, s3://, ftp:// or data: gets no handler
# (the request fails as unsupported) instead of reading local files or other stores.
DOWNLOAD_HANDLERS = {
    "http": "crawlers.mirror.MirrorDownloadHandler",
    "https": "crawlers.mirror.MirrorDownloadHandler",
    "file": None,
    "s3": None,
    "ftp": None,
    "data": None,
}
# Hosts let through to private, loopback or link-local addresses: none in a real crawl; the tests'
# and the benchmark's spiders set ["127.0.0.1"] for their local servers.
SKILLSTACK_ALLOW_PRIVATE_HOSTS: list[str] = []

ITEM_PIPELINES = {
    "crawlers.pipelines.apply_spider_defaults.ApplySpiderDefaultsPipeline": 100,
    "crawlers.pipelines.validate_course.ValidateCoursePipeline": 300,
    "crawlers.pipelines.write_crawl_db.WriteCrawlDbPipeline": 900,
}

EXTENSIONS = {
    "crawlers.extensions.SourceErrorCounter": 100,
    "crawlers.extensions.ItemProgress": 200,
}

# Error budget per source: a source that keeps failing is closed (finish reason
# `closespider_errorcount`, run status `failed`) while the other sources carry on. Enforced by
# crawlers.extensions.SourceErrorCounter on errors in a row (failed downloads, 5xx after the last
# retry, dead pages, callback exceptions), so scattered dead links do not stop a large source.
CLOSESPIDER_ERRORCOUNT = 50
# Time budget per source: all sources crawl in one process, so one that never ends (a server that
# trickles, a parse that stalls the reactor) would hold the nightly past its 6 h limit. After 3 h a
# source is closed (finish reason `closespider_timeout`, run status `failed`, its courses kept, not
# marked removed). A spider that needs longer sets CLOSESPIDER_TIMEOUT in its `custom_settings`.
CLOSESPIDER_TIMEOUT = 3 * 3600

TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
