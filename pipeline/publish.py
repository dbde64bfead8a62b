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

from pipeline import taxonomy
from pipeline.store import apply_schema, connect

# The taxonomy and its vectors: loaded by `taxonomy load`, carried over by every build.
TAXONOMY_TABLES = (*taxonomy.TAXONOMY_TABLES, "taxonomy_vectors")
CATALOG_TABLES = (
    "courses", "course_records", "offers", "course_skills", "course_embeddings", "sentence_skills", "crawl_runs",
    "catalog_meta",
)  # fmt: skip


@contextlib.contextmanager
def publishing(catalog_path: Path, *, carry_over: tuple[str, ...]) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection to a fresh catalogue; on a clean exit it replaces `catalog_path`.

    The previous catalogue, when there is one, is attached read-only as `prev` for the whole
    step, and `carry_over` tables are copied from it first.
    """
    catalog_path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(catalog_path)
    staging = catalog_path.with_name(f".{catalog_path.name}.{os.getpid()}.building")
    staging.unlink(missing_ok=True)
    # The staging file starts as a byte copy of the previous catalogue, whose tables not carried over
    # are then dropped: copying the file takes a fraction of a second where re-inserting its 250 MB
    # of taxonomy vectors row by row took six. A catalogue left with a write-ahead log (not ours:
    # every publish checkpoints) is carried over table by table instead.
    copied = catalog_path.exists() and not catalog_path.with_name(catalog_path.name + ".wal").exists()
    if copied:
        shutil.copyfile(catalog_path, staging)
    con = connect(staging)
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
        if catalog_path.exists():
            con.execute(f"ATTACH {sql_string(catalog_path)} AS prev (READ_ONLY)")
            if not copied:
                present = previous_tables(con)
                for table in carry_over:
                    # A catalogue from before a table existed simply has nothing to carry over for it.
                    if table in present:
                        # Identifiers from the constants above, never from input.
                        con.execute(f"INSERT INTO {table} SELECT * FROM prev.{table}")
        yield con
        if catalog_path.exists():
            con.execute("DETACH prev")
        con.execute("CHECKPOINT")
        con.close()
        _fsync(staging)
        os.replace(staging, catalog_path)
        _fsync(catalog_path.parent)
    except BaseException:
        con.close()
        staging.unlink(missing_ok=True)
        staging.with_name(staging.name + ".wal").unlink(missing_ok=True)
        raise


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
