"""Download a public file once into a runtime folder, or take it from the offline mirror.

Used for the bulk downloads outside Scrapy (the taxonomy files). With `SKILLSTACK_MIRROR` set the
mirror answers every URL and a file it lacks is a 404: the network is never tried.
"""

from __future__ import annotations

import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from skillstack.settings import USER_AGENT, mirror_dir, mirror_file_for

# The taxonomy zips are a few MB; this bounds each socket wait, not the whole transfer.
TIMEOUT_SECONDS = 60
# Characters that stay as they are when a URL path is re-quoted: RFC 3986 path characters plus `%`,
# so an already-escaped URL is not escaped twice.
_URL_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


class FetchError(RuntimeError):
    """A download failed; the message is one line naming the URL."""


def file_name_for(url: str) -> str:
    """The local file name of `url`: the last segment of its path, unquoted ("a%20b.zip" -> "a b.zip")."""
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    if not name:
        raise FetchError(f"{url}: the URL path names no file")
    return name


def fetch(url: str, dest_dir: Path) -> Path:
    """Return `dest_dir/<file name of url>`, downloading it unless it is already there.

    A file present with a nonzero size is reused as it is (downloads are written to a temporary file
    and renamed, so a present file is always complete).
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / file_name_for(url)
    if dest.is_file() and dest.stat().st_size > 0:
        return dest
    mirror = mirror_dir()
    if mirror is not None:
        _copy_from_mirror(url, mirror, dest)
    else:
        _download(url, dest)
    return dest


def _copy_from_mirror(url: str, mirror: Path, dest: Path) -> None:
    source = mirror_file_for(url, mirror)
    if not source.is_file():
        raise FetchError(f"{url}: not in the mirror (404)")
    # A copy rather than a hard link: the mirror is read-only and owned by someone else, which
    # protected_hardlinks forbids linking; the files are a few MB.
    with atomic_write(dest) as out, source.open("rb") as src:
        shutil.copyfileobj(src, out)


def _download(url: str, dest: Path) -> None:
    # urllib refuses spaces in a URL (the ESCO file names have them): send the path percent-encoded.
    parts = urlsplit(url)
    request = urllib.request.Request(
        urlunsplit(parts._replace(path=quote(parts.path, safe=_URL_PATH_SAFE))),
        headers={"User-Agent": USER_AGENT},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response, atomic_write(dest) as out:
            shutil.copyfileobj(response, out)
    except urllib.error.HTTPError as error:
        raise FetchError(_one_line(f"{url}: HTTP {error.code} {error.reason}")) from error
    except urllib.error.URLError as error:
        raise FetchError(_one_line(f"{url}: {error.reason}")) from error
    except (OSError, http.client.HTTPException, ValueError) as error:
        # Timeouts, resets, truncated bodies, a malformed URL: all end the same way for the caller.
        raise FetchError(_one_line(f"{url}: {type(error).__name__}: {error}")) from error


@contextmanager
def atomic_write(dest: Path) -> Iterator[BinaryIO]:
    """Write to a temporary file beside `dest`, renamed to `dest` only when the block succeeds.

    Readers and later runs therefore never see a half-written `dest`.
    """
    handle, temp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
        os.replace(temp, dest)
    finally:
        temp.unlink(missing_ok=True)


def _one_line(message: str) -> str:
    return " ".join(message.split())
