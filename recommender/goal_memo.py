"""The goal memo: what answering a goal needed from the model and the taxonomy, kept on disk.

A recommendation for a goal reads four things that only the goal's text and the catalogue's
taxonomy decide: the goal's occupations (the resolver), the query vector `Engine.rank` encodes (the
goal's own words), the chosen occupation's name vector (a row of the resolver's matrix) and the
goal's language. The memo keeps them per
goal in `cache/goal-memo-<key>/`, beside the catalogue, so asking a goal again from a new process
(the CLI) needs neither the model (importing torch and loading it is most of a cold command's
second) nor the resolver's indexes. The answer is the same with or without it: the vectors are kept
bit for bit (float32 bytes), the scores as the exact floats the resolver returned.

The key is `GOAL_MEMO_VERSION`, the model key (its variant included) and the catalogue's build
(`catalog_meta.built_at`): every publish starts an empty memo and the old one is deleted. Raise the
version when goal resolution, query encoding or language detection changes what they return.
Entries are JSON (no pickle, as for `recommender.index_cache`); one that does not decode is
ignored. `SKILLSTACK_GOAL_MEMO=off` turns the memo off (the tests compare answers with and without).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core import embed

if TYPE_CHECKING:
    from recommender.goals import OccupationHit

log = logging.getLogger(__name__)

# Occupations a goal resolves to (the best one answers, the others are offered to pick from), and so
# the k its memo entries are kept under. Here, not in `recommender.goals`, so that the CLI can look
# for an entry (`holds_any`) without importing the resolver's libraries.
OCCUPATIONS_PER_GOAL = 5

# 2: the occupations' name vectors are kept by occupation, apart from the query vectors.
GOAL_MEMO_VERSION = 2
MEMO_PREFIX = "goal-memo-"
# Each entry is ~5 kB (three vectors); past this many the oldest are deleted.
MAX_GOALS = 4096


@dataclass(frozen=True)
class Remembered:
    occupations: tuple[OccupationHit, ...]
    vectors: dict[str, np.ndarray]  # query text -> its float32 vector
    language: str | None
    occupation_vectors: dict[str, np.ndarray] = field(default_factory=dict)  # occupation uri -> its name's vector


@dataclass(frozen=True)
class GoalMemo:
    directory: Path | None  # None: off

    @classmethod
    def off(cls) -> GoalMemo:
        return cls(None)

    @classmethod
    def for_catalog(cls, catalog_path: Path, meta: dict[str, str]) -> GoalMemo:
        if os.environ.get("SKILLSTACK_GOAL_MEMO", "").strip().lower() in ("off", "0", "no", "false"):
            return cls.off()
        return cls(catalog_path.parent / "cache" / f"{MEMO_PREFIX}{memo_key(meta)}")

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def read(self, goal: str, k: int) -> Remembered | None:
        if self.directory is None:
            return None
        from recommender.goals import OccupationHit

        try:
            entry = json.loads((self.directory / _entry_name(goal, k)).read_text(encoding="utf-8"))
            if entry["goal"] != goal or entry["k"] != k:
                return None
            return Remembered(
                tuple(OccupationHit(str(u), str(label), float(s)) for u, label, s in entry["occupations"]),
                {str(text): _vector(encoded) for text, encoded in entry["vectors"].items()},
                None if entry["language"] is None else str(entry["language"]),
                {str(uri): _vector(encoded) for uri, encoded in entry["occupation_vectors"].items()},
            )
        except FileNotFoundError:
            return None
        except Exception as exc:  # a damaged or foreign entry is a miss, never an error
            log.debug("goal memo entry for %r not read: %s", goal, exc)
            return None

    def write(self, goal: str, k: int, remembered: Remembered) -> None:
        """Keep an entry (written whole, then renamed into place). A read-only or full disk only costs
        the next process the model."""
        if self.directory is None:
            return
        entry = {
            "goal": goal,
            "k": k,
            "occupations": [[o.uri, o.label, o.score] for o in remembered.occupations],
            "vectors": {text: _encoded(v) for text, v in remembered.vectors.items()},
            "language": remembered.language,
            "occupation_vectors": {uri: _encoded(v) for uri, v in remembered.occupation_vectors.items()},
        }
        try:
            fresh = not self.directory.exists()
            self.directory.mkdir(parents=True, exist_ok=True)
            if fresh:
                _remove_other_memos(self.directory)
            handle, staging = tempfile.mkstemp(dir=self.directory, prefix=".entry-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(entry, out, ensure_ascii=False)
            os.replace(staging, self.directory / _entry_name(goal, k))
            _bound(self.directory)
        except OSError as exc:
            log.debug("goal memo not written: %s", exc)
            with contextlib.suppress(NameError, OSError):
                os.unlink(staging)


def holds_any(catalog_path: Path, goals: list[str], k: int) -> bool:
    """Whether a memo beside the catalogue has an entry for one of `goals`, without opening the
    catalogue: the CLI asks before it starts loading the model (`core.encoder_worker`). An entry of
    an older build (its memo not yet replaced) also counts: that goal then waits for the model."""
    if not GoalMemo.for_catalog(catalog_path, {}).enabled:
        return False
    names = {_entry_name(goal, k) for goal in goals}
    return any(entry.name in names for entry in (catalog_path.parent / "cache").glob(f"{MEMO_PREFIX}*/*.json"))


def memo_key(meta: dict[str, str]) -> str:
    parts = (str(GOAL_MEMO_VERSION), embed.MODEL_KEY, meta.get("built_at") or "", meta.get("records") or "")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def _entry_name(goal: str, k: int) -> str:
    return hashlib.sha256(f"{k}\0{goal}".encode("utf-8", "surrogatepass")).hexdigest()[:32] + ".json"


def _encoded(vector: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(vector, dtype="<f4").tobytes()).decode("ascii")


def _vector(encoded: str) -> np.ndarray:
    vector = np.frombuffer(base64.b64decode(encoded, validate=True), dtype="<f4").astype(np.float32)
    if vector.shape != (embed.DIMENSIONS,) or not np.isfinite(vector).all():
        raise ValueError("not a query vector")
    return vector


def _remove_other_memos(keep: Path) -> None:
    for other in keep.parent.glob(f"{MEMO_PREFIX}*"):
        if other != keep:
            shutil.rmtree(other, ignore_errors=True)


def _bound(directory: Path) -> None:
    entries = list(directory.glob("*.json"))
    if len(entries) <= MAX_GOALS:
        return
    by_age = sorted(entries, key=lambda p: p.stat().st_mtime_ns)
    for old in by_age[: len(entries) - MAX_GOALS]:
        with contextlib.suppress(OSError):
            old.unlink()
