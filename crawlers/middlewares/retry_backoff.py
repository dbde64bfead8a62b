"""Retries that wait before they go out again: exponential backoff with jitter, and `Retry-After`.

Scrapy's RetryMiddleware re-sends a failed request at once, so a server that answers 429 or 503
because it is overloaded gets the same request again within milliseconds. This subclass keeps
Scrapy's decisions (RETRY_TIMES, RETRY_HTTP_CODES, RETRY_EXCEPTIONS, `dont_retry`, the `retry/*`
stats) and waits before returning the retry request:

- the n-th retry waits `SKILLSTACK_RETRY_BACKOFF_BASE × 2^(n-1)` seconds with "equal jitter" (a
  random point in the upper half of that span, so sources that failed together do not come back in
  lockstep), never more than `SKILLSTACK_RETRY_BACKOFF_MAX`;
- on 429 and 503 a `Retry-After` header (seconds or an HTTP date) is the least it waits. When the
  server asks for more than the cap, the request is not retried: the response is given up on and
  counted as an error, rather than knocking again earlier than the server asked.

The wait is an awaited timer on the reactor's event loop, not `time.sleep`: other requests, of
this source and of the others, keep downloading meanwhile. A waiting retry holds one of the
CONCURRENT_REQUESTS slots (as a request queued behind a download delay does) but not its domain's
slot, and a source that is being closed waits for it, at most the cap.

The run record counts the error records a source logs, so a request that fails for good should
log one. A failed download (timeout, refused connection) is logged as an error by Scrapy or handled
by the request's errback, and a response given up on (a 500 after the last retry) goes to the
errback when there is one: those give-ups are warnings. A response given up on by a request without
errback is only logged at INFO by HttpErrorMiddleware, so its give-up is logged at
RETRY_GIVE_UP_LOG_LEVEL (ERROR). `give_up_log_level` in a request's meta overrides both.
"""

from __future__ import annotations

import logging
import random
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.utils.asyncio import sleep
from scrapy.utils.response import response_status_message

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

RETRY_AFTER_CODES = frozenset({429, 503})
_DELAY_SECONDS = re.compile(r"[0-9]{1,12}")


def parse_retry_after(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value: `"120"` → 120.0, an HTTP date → seconds until it.

    None when there is no usable value; a date in the past is 0.
    """
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    # ASCII digits only: str.isdigit() also takes "²" or "١", which float() then refuses or reads.
    if _DELAY_SECONDS.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT; an obsolete form may parse without a zone
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(retry_times: int, base: float, cap: float, rand: random.Random | None = None) -> float:
    """Seconds before the `retry_times`-th retry (1 for the first): in [d/2, d], d = min(cap, base × 2^(n-1))."""
    span = min(cap, base * 2 ** (retry_times - 1))
    return span / 2 + (rand or random).uniform(0, span / 2)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware with a wait before every retry; see the module docstring."""

    def __init__(self, settings: BaseSettings):
        super().__init__(settings)
        self.base = settings.getfloat("SKILLSTACK_RETRY_BACKOFF_BASE", 1.0)
        self.cap = settings.getfloat("SKILLSTACK_RETRY_BACKOFF_MAX", 60.0)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        # Without an errback the response that is given up on only reaches HttpErrorMiddleware, which
        # logs it at INFO: the give-up is then the one error record of that request.
        reported_elsewhere = request.errback is not None
        asked = parse_retry_after(response.headers.get("Retry-After")) if response.status in RETRY_AFTER_CODES else None
        if asked is not None and asked > self.cap:
            self.crawler.stats.inc_value("retry/retry_after_too_long")
            logger.log(
                logging.WARNING if reported_elsewhere else logging.ERROR,
                "Gave up retrying %(request)s: the server asks to wait %(asked).0fs, more than %(cap).0fs",
                {"request": request, "asked": asked, "cap": self.cap},
                extra={"spider": self.crawler.spider},
            )
            return response
        retry = self._retry_or_give_up(request, response_status_message(response.status), reported_elsewhere)
        if retry is None:
            return response
        await self._wait(retry, asked)
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        # A failed download is logged as an error by Scrapy, or handled by the request's errback.
        retry = self._retry_or_give_up(request, exception, reported_elsewhere=True)
        if retry is None:
            return None
        await self._wait(retry, None)
        return retry

    def _retry_or_give_up(self, request: Request, reason: str | Exception, reported_elsewhere: bool) -> Request | None:
        default_level = logging.WARNING if reported_elsewhere else self.give_up_log_level
        return get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=reason,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
            give_up_log_level=request.meta.get("give_up_log_level", default_level),
        )

    async def _wait(self, retry: Request, asked: float | None) -> None:
        delay = backoff_delay(retry.meta["retry_times"], self.base, self.cap)
        if asked is not None:
            delay = max(delay, asked)
        self.crawler.stats.inc_value("retry/backoff_seconds", round(delay, 3))
        await sleep(delay)
