"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.responsetypes import responsetypes

from skillstack.settings import mirror_file_for

# The captured real responses live beside the repository, never inside it (PROVENANCE.md).
MIRROR_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "mirror"

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

    return lambda url: mirror_response_for(url, mirror)


def mirror_response_for(url: str, mirror: Path = MIRROR_DIR) -> Response:
    """The `mirror_response` of a URL, for fixtures broader than one test."""
    path = mirror_file_for(url, mirror)
    body = path.read_bytes()
    response_class = responsetypes.from_args(filename=str(path), body=body, url=url)
    return response_class(url=url, body=body, request=Request(url))


# ---------------------------------------------------------------- a real catalogue, built once

# The dataset sources of the mirror, each bounded: enough real courses for every layer's tests
# while the whole build (taxonomy vectors included) stays a few minutes on two cores.
CATALOG_SOURCES = (
    "coursera_skills_2024",
    "coursera_kaggle_2020",
    "edx_kaggle_2020",
    "udemy_kaggle_2017",
    "classcentral_data_science",
)
CATALOG_LIMIT = 200


def run_skillstack(home: Path, *args: str, check: bool = True, timeout: float = 3600) -> subprocess.CompletedProcess:
    """Run the real `skillstack` command in a subprocess (Scrapy's reactor runs once per process)."""
    env = {**os.environ, "SKILLSTACK_HOME": str(home), "SKILLSTACK_MIRROR": str(MIRROR_DIR), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "skillstack.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"skillstack {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result


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
