"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from scrapy.http import Response

from tests.helpers import CATALOG_LIMIT, CATALOG_SOURCES, MIRROR_DIR, mirror_response_for, run_skillstack

# The Open Badges specification's examples, inside the repository (captures/badges/PROVENANCE.md).
BADGES_DIR = Path(__file__).parent / "captures" / "badges"

# A run holds the built catalogue plus a few copies of it at once (about 0.7 GB each); below this
# the failures are "No space left on device" cascading through every later fixture.
FREE_DISK_NEEDED_GB = 4


def pytest_report_header(config: pytest.Config) -> str:
    """Say up front when the disk is too full for the run, instead of in a cascade of errors."""
    tmp_root = Path(os.environ.get("PYTEST_DEBUG_TEMPROOT") or os.environ.get("TMPDIR") or "/tmp")
    free_gb = shutil.disk_usage(tmp_root).free / 1e9
    header = f"free disk under {tmp_root}: {free_gb:.1f} GB"
    if free_gb < FREE_DISK_NEEDED_GB:
        header += f" -- WARNING: the catalogue tests need about {FREE_DISK_NEEDED_GB} GB"
    return header


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on the built catalogue is slow (the build runs the model), marked or not: a test added
    without its mark never turns `make check` into a catalogue build."""
    for item in items:
        if "built_home" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a `redis` test where Debian's redis-server is missing, with the reason in the summary."""
    if item.get_closest_marker("redis") and not (
        shutil.which("redis-server") or Path("/usr/bin/redis-server").exists()
    ):
        pytest.skip("redis-server is missing: `apt-get install -y redis-server` (as .ci/run does)")


@pytest.fixture
def mirror(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The captures (tests/captures), with `SKILLSTACK_MIRROR` pointing at them so no request reaches the network."""
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

    return lambda url: mirror_response_for(url, mirror)


# ---------------------------------------------------------------- a real catalogue, built once


@pytest.fixture(scope="session")
def built_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SKILLSTACK_HOME holding a catalogue built from the mirror: taxonomy, bounded crawl, build."""
    home = tmp_path_factory.mktemp("built_home")
    run_skillstack(home, "taxonomy", "load")
    run_skillstack(home, "crawl", *CATALOG_SOURCES, "--limit", str(CATALOG_LIMIT))
    run_skillstack(home, "build")
    return home


@pytest.fixture
def catalog_home(built_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The built catalogue as this process's SKILLSTACK_HOME, for in-process calls of recommender.api."""
    monkeypatch.setenv("SKILLSTACK_HOME", str(built_home))
    monkeypatch.setenv("SKILLSTACK_MIRROR", str(MIRROR_DIR))
    return built_home
