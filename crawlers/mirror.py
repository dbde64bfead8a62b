"""HTTP(S) download handler that answers from the offline mirror when `SKILLSTACK_MIRROR` is set.

With the variable set, a request is answered from `skillstack.settings.mirror_file_for(url, mirror)`:
status 200 with the file's bytes, or 404 when there is no such regular file (a FIFO or a device
in the mirror is not read); a file larger than DOWNLOAD_MAXSIZE fails as a response that large
would. It never opens a connection, so tests and offline runs cannot reach the network by
accident. Without the variable every request goes to Scrapy's own handler for the scheme. Spiders
cannot tell the difference.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.exceptions import DownloadCancelledError
from scrapy.http import Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object

from skillstack.settings import mirror_dir, mirror_file_for

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

MIRROR_FLAG = "mirror"


def _read_if_exists(path: Path, maxsize: int) -> bytes | None:
    """The bytes of the regular file at `path`; None when there is none. Anything else there (a
    FIFO, whose read would block the reactor until someone writes, a device, a directory) counts as
    missing. A file larger than `maxsize` (0: no limit) raises DownloadCancelledError, as Scrapy's
    HTTP handler does for a response that large."""
    try:
        # Non-blocking, so opening a FIFO returns at once; the type is checked on what was opened.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    # ValueError: a NUL byte in the name (a URL's %00), which no file can have.
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, ValueError):
        return None
    size = os.fstat(descriptor)
    if not stat.S_ISREG(size.st_mode):
        os.close(descriptor)
        return None
    with os.fdopen(descriptor, "rb") as file:
        if maxsize and size.st_size > maxsize:
            raise DownloadCancelledError(
                f"mirror file {path} is {size.st_size} bytes, larger than download max size ({maxsize})"
            )
        # At most one byte past the limit, should the file grow while it is read.
        body = file.read(maxsize + 1) if maxsize else file.read()
    if maxsize and len(body) > maxsize:
        raise DownloadCancelledError(f"mirror file {path} is larger than download max size ({maxsize})")
    return body


class MirrorDownloadHandler(BaseDownloadHandler):
    # Not lazy: the mirror decision is taken once, when the crawler starts.
    lazy = False

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.mirror: Path | None = mirror_dir()
        self.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        # Scrapy's own handlers, built on first use so an offline run never creates a connection pool.
        self._live_handlers: dict[str, BaseDownloadHandler] = {}

    async def download_request(self, request: Request) -> Response:
        if self.mirror is None:
            return await self._live_handler(urlparse_cached(request).scheme).download_request(request)
        try:
            path = mirror_file_for(request.url, self.mirror)
        except ValueError:  # a NUL byte in the URL's path (%00): no file has that name
            return Response(url=request.url, status=404, request=request, flags=[MIRROR_FLAG])
        # Read inline rather than in a thread: mirror files are a few MB on local disk, and the
        # handler then works with or without a running reactor or event loop (tests call it bare).
        body = _read_if_exists(path, request.meta.get("download_maxsize", self.maxsize))
        if body is None:
            return Response(url=request.url, status=404, request=request, flags=[MIRROR_FLAG])
        response_class = responsetypes.from_args(filename=str(path), body=body, url=request.url)
        return response_class(url=request.url, status=200, body=body, request=request, flags=[MIRROR_FLAG])

    def _live_handler(self, scheme: str) -> BaseDownloadHandler:
        if scheme not in self._live_handlers:
            handler_path = self.crawler.settings.getdict("DOWNLOAD_HANDLERS_BASE")[scheme]
            self._live_handlers[scheme] = build_from_crawler(load_object(handler_path), self.crawler)
        return self._live_handlers[scheme]

    async def close(self) -> None:
        for handler in self._live_handlers.values():
            await handler.close()
