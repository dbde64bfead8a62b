"""Atomic publication of catalog.duckdb.

A new catalogue is written to a temporary file beside the live one and renamed over it, so
readers never see a half-built catalogue and a crash leaves the old one serving. Tables that the
step does not rebuild are carried over from the previous catalogue (the file is copied and the
other tables dropped and created again).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

from core.store import apply_schema, connect
from pipeline import taxonomy

# The taxonomy and its vectors: loaded by `taxonomy load`, carried over by every build.
TAXONOMY_TABLES = (*taxonomy.TAXONOMY_TABLES, "taxonomy_vectors")


class PublishError(Exception):
    """The catalogue cannot be replaced safely; the message says what to do."""


CATALOG_TABLES = (
    "courses", "course_records", "offers", "course_skills", "course_embeddings", "sentence_skills", "crawl_runs",
    "catalog_meta",
)  # fmt: skip


@contextlib.contextmanager
def publishing(catalog_path: Path, *, carry_over: tuple[str, ...]) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection to a fresh catalogue; on a clean exit it replaces `catalog_path`.

    The previous catalogue, when there is one, is attached read-only as `prev` for the whole
    step, and its `carry_over` tables are kept. PublishError when a write-ahead log left beside
    the catalogue cannot be folded into it (`absorb_wal`).
    """
    catalog_path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(catalog_path)
    absorb_wal(catalog_path)
    staging = catalog_path.with_name(f".{catalog_path.name}.{os.getpid()}.building")
    staging.unlink(missing_ok=True)
    # The staging file starts as a byte copy of the previous catalogue, whose tables not carried over
    # are then dropped: copying the file takes a fraction of a second where re-inserting its 250 MB
    # of taxonomy vectors row by row took six (`absorb_wal` has folded any write-ahead log into it).
    copied = catalog_path.exists()
    try:
        if copied:
            shutil.copyfile(catalog_path, staging)
        con = connect(staging)
    except BaseException:  # a full disk: a part-copy would take the space the next try needs
        staging.unlink(missing_ok=True)
        raise
    try:
        if copied:
            (own,) = con.execute("SELECT current_database()").fetchone()
            # Dropped, not emptied: a dropped table's blocks are free for the new rows after the
            # checkpoint, where deleted rows kept theirs and the file grew by the rebuilt tables
            # at every build. `apply_schema` creates them again, empty.
            for table in _tables(con, own) - set(carry_over):
                con.execute(f'DROP TABLE "{table}"')  # names of our own tables, never input
            con.execute("CHECKPOINT")
        apply_schema(con)
        if copied:
            con.execute(f"ATTACH {sql_string(catalog_path)} AS prev (READ_ONLY)")
        yield con
        if copied:
            con.execute("DETACH prev")
        con.execute("CHECKPOINT")
        con.close()
        _fsync(staging)
        if wal_of(catalog_path).exists():
            # Someone wrote to the live catalogue during this step: renaming over it would leave that
            # log to be replayed onto the new file at its next open.
            raise PublishError(
                f"{wal_of(catalog_path)} appeared while the catalogue was being built (a session writing to "
                "it); close that session and run again"
            )
        os.replace(staging, catalog_path)
        _fsync(catalog_path.parent)
    except BaseException:
        con.close()
        staging.unlink(missing_ok=True)
        staging.with_name(staging.name + ".wal").unlink(missing_ok=True)
        raise


def wal_of(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def absorb_wal(catalog_path: Path) -> None:
    """Fold a write-ahead log left beside the catalogue into it, or refuse.

    Only a read-write session killed on the catalogue leaves one (every publish checkpoints). DuckDB
    replays `<file>.wal` onto whatever file has that name at the next open: renamed over by a new
    catalogue, the old log would be replayed onto the new file (duplicate keys, and every later
    build failing). Opening the file read-write replays the log into it and closing checkpoints it.
    Called under the writers' lock (`skillstack.lock`), so no build of ours is the writer.
    """
    wal = wal_of(catalog_path)
    if not wal.exists():
        return
    if not catalog_path.exists():  # a log without its file belongs to nothing
        wal.unlink(missing_ok=True)
        return
    try:
        con = duckdb.connect(str(catalog_path))
        con.execute("CHECKPOINT")
        con.close()
    except duckdb.Error as exc:
        raise PublishError(
            f"{wal} was left by a session that wrote to the catalogue, and it cannot be folded into it "
            f"({' '.join(str(exc).split())[:300]}); close any session that has {catalog_path.name} open for "
            "writing and run again"
        ) from None
    if wal.exists():
        raise PublishError(f"{wal} is still there after a checkpoint; close any session writing to the catalogue")


def remove_stale_staging(catalog_path: Path) -> list[Path]:
    """Delete the staging files (and their WAL) of builds whose process is gone, e.g. killed by
    SIGKILL or a power cut; a build still running keeps its own. Returns what was deleted."""
    removed = []
    for path in catalog_path.parent.glob(f".{catalog_path.name}.*.building*"):
        pid = path.name.removeprefix(f".{catalog_path.name}.").split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def sql_string(path: Path) -> str:
    """A file path as an SQL string literal: ATTACH takes no bound parameters, and the path comes
    from our own settings, but a quote in a folder name must still not end the literal."""
    return "'" + str(path).replace("'", "''") + "'"


def previous_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The tables of the attached previous catalogue (none when there is no previous one)."""
    return _tables(con, "prev")


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> set[str]:
    query = "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'"
    return {name for (name,) in con.execute(query, [database]).fetchall()}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
