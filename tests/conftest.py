"""Fixtures shared by the test modules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.responsetypes import responsetypes

from skillstack.settings import mirror_file_for

# The captured real responses live beside the repository, never inside it (PROVENANCE.md).
MIRROR_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "mirror"


@pytest.fixture
def mirror(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared mirror, with `SKILLSTACK_MIRROR` pointing at it so no request reaches the network."""
    assert MIRROR_DIR.is_dir(), f"the shared mirror is missing: {MIRROR_DIR}"
    monkeypatch.setenv("SKILLSTACK_MIRROR", str(MIRROR_DIR))
    return MIRROR_DIR


@pytest.fixture
def skillstack_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty `SKILLSTACK_HOME` for the test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("SKILLSTACK_HOME", str(home))
    return home


@pytest.fixture
def mirror_response(mirror: Path) -> Callable[[str], Response]:
    """Build the Scrapy response the mirror holds for a URL, as a spider callback receives it.

    The response class (TextResponse, HtmlResponse, XmlResponse, JsonResponse) is chosen the way
    the download handler chooses it; `response.request` is set so callbacks can read `meta`.
    """

    def build(url: str) -> Response:
        path = mirror_file_for(url, mirror)
        body = path.read_bytes()
        response_class = responsetypes.from_args(filename=str(path), body=body, url=url)
        return response_class(url=url, body=body, request=Request(url))

    return build
