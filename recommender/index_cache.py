"""The indexes kept in `SKILLSTACK_HOME/cache`, in formats that cannot run code when read.

Two kinds, each a directory written whole under a staging name and renamed into place:
- `taxonomy-indexes-<key>`: the goal resolver and the skill extractor, built from the taxonomy
  alone (~10 s), so a new build, the CLI or a dashboard restart reads them in well under a second;
- `course-indexes-<key>`: the course frame, vector matrix, BM25 index and skill links of one build
  (16.9 s at 250k courses), written by the first open of a build (the nightly's) and read by every
  later one.

The dashboard's user can write the cache and the nightly's user reads it, so nothing here is a
pickle: numbers are `.npy` files read with `allow_pickle=False`, the course frame is Parquet, and the
rest is JSON in which an object is a class named on `_ALLOWED` and its attributes, set without
calling any of its code. A file that does not decode, or names another class, is rebuilt.

A key is the model, `INDEX_CACHE_VERSION`, the library versions whose objects are stored and a
fingerprint of the data (the taxonomy tables; the build's `built_at` and report and the skill
columns). Raise the version whenever what these indexes hold or how they are built changes:
`recommender/goals.py`, `core/skill_extract.py`, `recommender/lexical.py` or
`course_side.build_course_indexes`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import sparse

from core import embed
from core.skill_extract import SkillExtractor
from recommender import goals as goals_module
from recommender.goals import GoalResolver
from recommender.lexical import Bm25Index

log = logging.getLogger(__name__)

# 3: the skill extractor is named `core.skill_extract.SkillExtractor` in the taxonomy indexes (it moved).
# 4: no scikit-learn object is kept: BM25's analysis and the resolver's n-grams are plain values.
# 5: arrays are one `.npy` each, memory-mapped when read (the taxonomy's 189 MB `.npz` took 0.6 s);
#    the skill extractor in a file of its own, read at its first use.
# 6: the resolver keeps the row of each occupation's preferred label (`GoalResolver.label_rows`).
INDEX_CACHE_VERSION = 6
TAXONOMY_PREFIX = "taxonomy-indexes-"
COURSE_PREFIX = "course-indexes-"
STATE_FILE = "state.json"
EXTRACTOR_FILE = "extractor.json"  # in the taxonomy indexes: read apart, at its first use
ARRAYS_DIR = "arrays"
VECTORS_FILE = "vectors.npy"
# Arrays up to this many elements are written into the JSON: the resolver holds ~70k tiny index arrays,
# which as files of their own would make it slow to open.
INLINE_ARRAY_MAX = 256


@dataclass(frozen=True)
class CourseIndexes:
    courses: pd.DataFrame  # active courses by id, row i ↔ course_matrix[i] ↔ links[i]
    course_matrix: np.ndarray
    lexical: Bm25Index
    links: sparse.csr_matrix
    link_evidence: np.ndarray
    evidence_texts: list[str]


# The only classes a cache file may name. Their objects are restored attribute by attribute, with
# no constructor, `__setstate__` or other code of theirs run.
# No scikit-learn object is kept: its fitted values are (BM25's analysis, the resolver's n-grams),
# so reading the caches imports no scikit-learn. Its version stays in the key: it fits them.
_ALLOWED: dict[str, type] = {
    f"{cls.__module__}.{cls.__qualname__}": cls
    for cls in (
        GoalResolver,
        goals_module._Channel,
        goals_module.ChannelWeights,
        goals_module.CharGrams,
        SkillExtractor,
        Bm25Index,
    )
}
_LIBRARIES = f"numpy {np.__version__}|pandas {pd.__version__}|scikit-learn {version('scikit-learn')}"


# ---------------------------------------------------------------- the two caches


@dataclass
class TaxonomyIndexes:
    """The goal resolver, and the skill extractor when it is in memory: read from the cache, the
    extractor is read at its first use (`read_extractor`), since answering a goal never needs it."""

    resolver: GoalResolver
    skills_ready: bool  # what the extractor's `ready` says: the skills' vectors are there
    extractor: SkillExtractor | None = None
    kept: Path | None = None  # the cache directory it was read from


def taxonomy_indexes(
    con: duckdb.DuckDBPyConnection, catalog_path: Path, opened: tuple | None = None
) -> TaxonomyIndexes:
    """The goal resolver and the skill extractor of the catalogue's taxonomy, read from the cache or
    built and kept. They depend on the taxonomy and its vectors only, which every build carries over.
    A process whose catalogue was replaced while it built them (`opened` no longer names the file)
    serves them but keeps nothing: its write would prune the newer ones."""
    cache_dir = catalog_path.parent / "cache"
    kept = cache_dir / f"{TAXONOMY_PREFIX}{_taxonomy_fingerprint(con)}"
    try:
        state, _arrays = _read_state(kept)
        resolver, skills_ready = state["resolver"], state["skills_ready"]
        if not isinstance(resolver, GoalResolver) or not isinstance(skills_ready, bool):
            raise ValueError("not a goal resolver")
        return TaxonomyIndexes(resolver, skills_ready, kept=kept)
    except FileNotFoundError:
        pass
    except Exception as exc:  # a truncated, damaged or foreign file is rebuilt, never fatal
        log.warning("rebuilding the taxonomy indexes: %s cannot be read (%s)", kept, _one_line(exc))
    resolver, extractor = GoalResolver.load(con), SkillExtractor.load(con)
    built = TaxonomyIndexes(resolver, extractor.ready, extractor)
    if opened is not None and file_identity(catalog_path) != opened:
        log.info("not keeping the taxonomy indexes: %s was replaced while they were built", catalog_path)
        return built
    if resolver.ready and extractor.ready:
        states = {STATE_FILE: {"resolver": resolver, "skills_ready": True}, EXTRACTOR_FILE: {"extractor": extractor}}
        _keep(kept, TAXONOMY_PREFIX, lambda staging: _write_states(staging, states))
    return built


def read_extractor(indexes: TaxonomyIndexes, con: duckdb.DuckDBPyConnection) -> SkillExtractor:
    """The skill extractor of `indexes`: in memory, read from their cache directory, or, when a newer
    build has pruned that, built again from `con` (the catalogue the resolver came from)."""
    if indexes.extractor is not None:
        return indexes.extractor
    try:
        extractor = _read_state(indexes.kept, EXTRACTOR_FILE)[0]["extractor"]
        if not isinstance(extractor, SkillExtractor):
            raise ValueError("not a skill extractor")
    except Exception as exc:
        log.info("building the skill extractor: %s cannot be read (%s)", indexes.kept, _one_line(exc))
        extractor = SkillExtractor.load(con)
    indexes.extractor = extractor
    return extractor


def course_indexes(
    con: duckdb.DuckDBPyConnection,
    catalog_path: Path,
    skill_uris: list[str],
    opened: tuple | None,
    build: Callable[[duckdb.DuckDBPyConnection, list[str]], CourseIndexes],
) -> CourseIndexes:
    """The course-side indexes of the catalogue's build, read from the cache or made by `build` and
    kept. The vector matrix is memory-mapped read-only, so processes serving the same build share its
    pages. `opened`: as for `taxonomy_indexes`."""
    cache_dir = catalog_path.parent / "cache"
    kept = cache_dir / f"{COURSE_PREFIX}{_course_fingerprint(con, skill_uris)}"
    try:
        return _read_course_indexes(kept)
    except FileNotFoundError:
        pass
    except Exception as exc:  # a truncated, damaged or foreign directory is rebuilt, never fatal
        log.warning("rebuilding the course indexes: %s cannot be read (%s)", kept, _one_line(exc))
    built = build(con, skill_uris)
    if opened is not None and file_identity(catalog_path) != opened:
        log.info("not keeping the course indexes: %s was replaced while they were built", catalog_path)
        return built
    _keep(kept, COURSE_PREFIX, lambda staging: _write_course_indexes(staging, built))
    return built


def _taxonomy_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    parts = con.execute(
        """
        SELECT (SELECT count(*) || ':' || coalesce(sum(hash(uri, surface, origin)), 0) FROM taxonomy_vectors
                WHERE kind IN ('occupation', 'skill') AND model = ?),
               (SELECT count(*) || ':' || coalesce(sum(hash(uri, label, alt_labels, reuse_level)), 0) FROM skills),
               (SELECT count(*) || ':' || coalesce(sum(hash(uri, label, description)), 0) FROM occupations)
        """,
        [embed.MODEL_KEY],
    ).fetchone()
    return _key(*map(str, parts))


def _course_fingerprint(con: duckdb.DuckDBPyConnection, skill_uris: list[str]) -> str:
    """This build of the catalogue: every build writes its time and report into `catalog_meta`; the
    skill columns are hashed too, since `taxonomy load` replaces the skills and carries the rest over."""
    meta = dict(con.execute("SELECT key, value FROM catalog_meta").fetchall())
    build = [meta.get("built_at") or "", meta.get("report") or "", meta.get("model") or ""]
    return _key(*build, hashlib.sha256("\n".join(skill_uris).encode()).hexdigest())


def _key(*parts: str) -> str:
    code = f"{INDEX_CACHE_VERSION}|{_LIBRARIES}"
    return hashlib.sha256("|".join([embed.MODEL_KEY, code, *parts]).encode()).hexdigest()[:20]


def _read_course_indexes(directory: Path) -> CourseIndexes:
    state, _arrays = _read_state(directory)
    courses = pq.read_table(directory / "courses.parquet").to_pandas()
    # Read-only and shared: a query only reads the matrix, and the page cache holds it once for every
    # process serving this build. A plain ndarray view, so products return plain arrays.
    matrix = np.load(directory / VECTORS_FILE, mmap_mode="r", allow_pickle=False).view(np.ndarray)
    if not isinstance(state["lexical"], Bm25Index) or not sparse.issparse(state["links"]):
        raise ValueError("the parts are not a BM25 index and a link matrix")
    if matrix.shape != (len(courses), embed.DIMENSIONS) or state["links"].shape[0] != len(matrix):
        raise ValueError(f"the parts disagree: {matrix.shape} vectors, {state['links'].shape} links")
    return CourseIndexes(courses=courses, course_matrix=matrix, **state)


def _write_course_indexes(staging: Path, indexes: CourseIndexes) -> None:
    np.save(staging / VECTORS_FILE, np.ascontiguousarray(indexes.course_matrix, dtype=np.float32))
    pq.write_table(pa.Table.from_pandas(indexes.courses, preserve_index=False), staging / "courses.parquet")
    _write_state(
        staging,
        {
            "lexical": indexes.lexical,
            "links": indexes.links,
            "link_evidence": indexes.link_evidence,
            "evidence_texts": indexes.evidence_texts,
        },
    )


# ---------------------------------------------------------------- directories written whole


def _keep(directory: Path, prefix: str, write: Callable[[Path], None]) -> None:
    """Write the directory whole under a staging name and rename it into place, then delete the
    other directories of its kind: a reader sees a complete directory or none. A read-only or full
    disk only costs the next open the time to build again."""
    cache_dir = directory.parent
    staging = cache_dir / f".{directory.name}.{os.getpid()}"
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        write(staging)
        if directory.exists():  # unreadable (we only write after a failed read): move it out of the way
            _remove(directory)
        try:
            os.replace(staging, directory)
        except OSError:
            if not directory.is_dir():
                raise
            # another process kept the same build first: theirs serves
    except (OSError, TypeError, ValueError) as exc:
        log.warning("cannot keep %s in %s: %s", directory.name, cache_dir, _one_line(exc))
        return
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for old in cache_dir.glob(f"{prefix}*"):
        if old != directory:
            _remove(old)
    reap_staging(cache_dir)


def reap_staging(cache_dir: Path) -> list[Path]:
    """Delete the staging and removed directories of cache writers that died (SIGKILL, power cut)
    before renaming or deleting them; a writer still running keeps its own. Returns what was deleted."""
    reaped = []
    for prefix in (TAXONOMY_PREFIX, COURSE_PREFIX):
        for dead in cache_dir.glob(f".{prefix}*"):
            # .<name>.<pid> while written, .<name>.<pid>.removed while deleted
            pid = dead.name.removesuffix(".removed").rsplit(".", 1)[-1]
            if not _process_alive(pid):
                _remove_now(dead)
                reaped.append(dead)
    return reaped


def _remove(path: Path) -> None:
    """Rename first, then delete: the name disappears at once, and a process that memory-mapped a file
    inside keeps reading it until it closes."""
    trash = path.with_name(f".{path.name}.{os.getpid()}.removed")
    try:
        os.replace(path, trash)
    except FileNotFoundError:
        return
    _remove_now(trash)


def _remove_now(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _process_alive(pid: str) -> bool:
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def file_identity(path: Path) -> tuple | None:
    with contextlib.suppress(OSError):
        stat = os.stat(path)
        return (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


# ---------------------------------------------------------------- objects as JSON and arrays


def _write_state(directory: Path, values: dict[str, Any]) -> None:
    _write_states(directory, {STATE_FILE: values})


def _write_states(directory: Path, states: dict[str, dict[str, Any]]) -> None:
    """Each of `states` as its own JSON file (read apart with `_read_state(directory, file)`), their
    arrays in one folder."""
    arrays: dict[str, np.ndarray] = {}
    encoded = {file: _encode(values, arrays) for file, values in states.items()}
    (directory / ARRAYS_DIR).mkdir()
    for name, array in arrays.items():
        np.save(directory / ARRAYS_DIR / f"{name}.npy", array, allow_pickle=False)
    for file, state in encoded.items():
        (directory / file).write_text(json.dumps(state, ensure_ascii=False, allow_nan=True), encoding="utf-8")


def _read_state(directory: Path, file: str = STATE_FILE) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    # Memory-mapped copy-on-write: reading costs nothing until a page is used, processes reading
    # one cache share its pages, and a reader that changes an array changes only its own copy.
    arrays = {
        path.stem: np.load(path, mmap_mode="c", allow_pickle=False).view(np.ndarray)
        for path in (directory / ARRAYS_DIR).glob("*.npy")
    }
    state = _decode(json.loads((directory / file).read_text(encoding="utf-8")), arrays)
    if not isinstance(state, dict):
        raise ValueError("the state is not a mapping")
    return state, arrays


def _encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return {"$scalar": value.dtype.str, "v": value.item()}
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("an array of Python objects cannot be kept without pickle")
        if value.size <= INLINE_ARRAY_MAX:
            return {"$array": value.dtype.str, "shape": list(value.shape), "v": value.ravel().tolist()}
        name = f"a{len(arrays)}"
        arrays[name] = value
        return {"$npz": name}
    if sparse.issparse(value):
        matrix = value.tocsr() if value.format not in ("csr", "csc") else value
        return {
            "$sparse": matrix.format,
            "shape": list(matrix.shape),
            **{part: _encode(getattr(matrix, part), arrays) for part in ("data", "indices", "indptr")},
        }
    if isinstance(value, type) and issubclass(value, np.generic):
        return {"$dtype": np.dtype(value).str}
    if isinstance(value, np.dtype):
        return {"$dtype_instance": value.str}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v, arrays) for v in value]}
    if isinstance(value, set | frozenset):
        return {"$set": [_encode(v, arrays) for v in sorted(value, key=repr)]}
    if isinstance(value, dict):
        # Two compact forms for the resolver's and extractor's large lookups (label → occupation
        # indices, label tokens → skill indices): a tagged entry per item made the file slow to parse.
        if value and all(isinstance(k, str) for k in value) and _same_small_arrays(value.values()):
            dtype = next(iter(value.values())).dtype
            return {"$dict_arrays": dtype.str, "v": {k: v.tolist() for k, v in value.items()}}
        if value and all(_plain_tuple(k) and _plain_tuple(v) for k, v in value.items()):
            return {"$tuple_pairs": [[list(k), list(v)] for k, v in value.items()]}
        if all(isinstance(k, str) for k in value):
            return {"$dict": {k: _encode(v, arrays) for k, v in value.items()}}
        return {"$pairs": [[_encode(k, arrays), _encode(v, arrays)] for k, v in value.items()]}
    name = f"{type(value).__module__}.{type(value).__qualname__}"
    if _ALLOWED.get(name) is type(value):
        return {"$object": name, "state": _encode(dict(vars(value)), arrays)}
    raise TypeError(f"{name} is not a type the index cache keeps")


def _decode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if "$npz" in value:
        return arrays[value["$npz"]]
    if "$array" in value:
        dtype = _plain_dtype(value["$array"])
        return np.array(value["v"], dtype=dtype).reshape(value["shape"])
    if "$scalar" in value:
        return _plain_dtype(value["$scalar"]).type(value["v"])
    if "$sparse" in value:
        kind = {"csr": sparse.csr_matrix, "csc": sparse.csc_matrix}[value["$sparse"]]
        parts = (_decode(value[part], arrays) for part in ("data", "indices", "indptr"))
        return kind(tuple(parts), shape=tuple(value["shape"]))
    if "$dtype" in value:
        return _plain_dtype(value["$dtype"]).type
    if "$dtype_instance" in value:
        return _plain_dtype(value["$dtype_instance"])
    if "$tuple" in value:
        return tuple(_decode(v, arrays) for v in value["$tuple"])
    if "$set" in value:
        return {_decode(v, arrays) for v in value["$set"]}
    if "$dict" in value:
        return {k: _decode(v, arrays) for k, v in value["$dict"].items()}
    if "$dict_arrays" in value:
        dtype = _plain_dtype(value["$dict_arrays"])
        return {k: np.array(v, dtype=dtype) for k, v in value["v"].items()}
    if "$tuple_pairs" in value:
        return {tuple(k): tuple(v) for k, v in value["$tuple_pairs"]}
    if "$pairs" in value:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in value["$pairs"]}
    if "$object" in value:
        cls = _ALLOWED.get(value["$object"])
        if cls is None:
            raise ValueError(f"{value['$object']!r} is not a type the index cache keeps")
        instance = object.__new__(cls)
        instance.__dict__.update(_decode(value["state"], arrays))
        return instance
    raise ValueError(f"unknown entry {sorted(value)[:3]}")


def _same_small_arrays(values) -> bool:
    dtypes = set()
    for v in values:
        if not isinstance(v, np.ndarray) or v.ndim != 1 or v.dtype.hasobject or v.size > INLINE_ARRAY_MAX:
            return False
        dtypes.add(v.dtype)
    return len(dtypes) == 1


def _plain_tuple(value: Any) -> bool:
    return type(value) is tuple and all(type(v) in (str, int, float, bool) for v in value)


def _plain_dtype(text: str) -> np.dtype:
    """A numpy dtype of numbers, booleans or fixed-size text: never one holding Python objects."""
    dtype = np.dtype(text)
    if dtype.hasobject or dtype.fields is not None:
        raise ValueError(f"dtype {text!r} is not a plain one")
    return dtype
