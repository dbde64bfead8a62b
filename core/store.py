"""DuckDB connections and the one schema file."""

from __future__ import annotations

from pathlib import Path

import duckdb

SCHEMA_FILE = Path(__file__).with_name("schema.sql")


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path), read_only=read_only)
    # DuckDB draws a progress bar on stderr for queries over two seconds, even into a log file.
    con.execute("SET enable_progress_bar = false")
    return con


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table that does not exist yet; safe to run on every open."""
    con.execute(SCHEMA_FILE.read_text(encoding="utf-8"))


def open_crawl_db(path: Path) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_if_empty(path)
    try:
        con = connect(path)
        apply_schema(con)
    except BaseException:
        remove_if_empty(path)
        raise
    return con


def remove_if_empty(path: Path) -> None:
    """Delete a database file of 0 bytes: a create that failed (a full disk) before DuckDB wrote its
    header. DuckDB refuses to open such a file, so left in place it would fail every later crawl."""
    try:
        if path.stat().st_size == 0:
            path.unlink()
    except FileNotFoundError:
        pass


def open_catalog_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    return connect(path, read_only=True)
