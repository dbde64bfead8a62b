"""`skillstack build`: the latest finished crawl of each source → a published catalog.duckdb.

Steps: read raw items → normalise → merge with the previous catalogue (first_seen, removed
records) → de-duplicate records into courses (`pipeline.dedupe`) → offer history → embed new
texts and read their skills in the same forward pass → link skills → publish atomically.

One module though over 600 lines: every step works on the one staging connection, report and temp
tables in a fixed order, and the carry-over shares the items query and the keys with the full path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from core import embed
from core.course_record import is_search_url
from core.store import SCHEMA_FILE
from pipeline import dedupe, normalise, skills, surfaces, tag_check
from pipeline.normalise import normalise_item
from pipeline.publish import TAXONOMY_TABLES, previous_tables, publishing, sql_string
from skillstack.settings import model_variant

log = logging.getLogger(__name__)

COURSE_COLUMNS = (
    "id", "source", "provider", "institution", "url", "name", "description", "in_language", "level", "hours",
    "duration_raw", "course_mode", "credential", "credential_raw", "price", "currency", "access_model",
    "certificate_price", "price_raw",
    "rating", "rating_count", "skills_declared", "first_seen", "last_seen", "status", "content_hash", "extras",
)  # fmt: skip


# What a record's `item_hash` is taken with besides the raw item: the normalisers' version, so that
# changing them (and raising `normalise.NORMALISER_VERSION`) normalises every item again instead of
# reusing the previous build's values.
NORMALISER_KEY = f"normalise-v{normalise.NORMALISER_VERSION}|"


# How this module makes records and courses from normalised items (merging with the previous
# catalogue, first_seen, removals, the course rows). Raise it when a change here would make any
# record or course differently; a move or a comment keeps it.
RECORDS_VERSION = 1
# What the grouping of unchanged records depends on besides them: de-duplication, this module and
# the tables' layout (the DDL is data, so its text is hashed). A previous catalogue built with the
# same key and the same items is carried over.
RECORDS_KEY = (
    f"records-v{RECORDS_VERSION}|dedupe-v{dedupe.DEDUPE_VERSION}|"
    + hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest()[:16]
)
# At most this many items new since the previous build are normalised to check that none of them
# makes a record (an item without a name or URL is skipped) before the previous records are carried over.
CARRY_MAX_NEW_ITEMS = 1000

# A complete crawl may mark at most this share of a source's listed courses removed in one build;
# more is held back (kept as they were, named in the report) unless `--allow-mass-removal`. A source
# losing most of its courses overnight is far likelier a broken feed than a provider's decision.
MAX_REMOVAL_SHARE = 0.5

BUILD_DUCKDB_MEMORY = "2GB"
# Rows fetched from DuckDB at a time when streaming items and previous records.
ITEMS_PER_READ = 5000


class BuildError(Exception):
    """Nothing to build from; the message says what to run."""


@dataclass
class BuildReport:
    sources: dict[str, str] = field(default_factory=dict)  # source -> newest run used
    courses: int = 0  # catalogue courses, after de-duplication
    active: int = 0
    records: int = 0  # source records behind them
    new: int = 0  # records new, changed and removed since the previous build
    changed: int = 0
    removed: int = 0
    merged: int = 0  # records folded into another record's course
    merged_pairs: dict[str, int] = field(default_factory=dict)  # "source_a + source_b" -> courses listed by both
    ambiguous: int = 0  # records that could have joined several courses and stayed apart
    tags_disagree: int = 0  # courses whose declared tags disagree with their own text: given no weight
    own_pages: int = 0  # courses given their own page from a sitemap instead of a search link
    embedded: int = 0
    skill_links: int = 0
    deferred_surfaces: int = 0  # taxonomy surfaces left without a vector by `defer_onet`, for the next build
    per_source: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> new/changed/removed/active
    # source -> {"missing", "listed"}: courses a complete crawl no longer lists, not marked removed
    # because they are more than MAX_REMOVAL_SHARE of what the source listed
    held_back: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    def one_line(self) -> str:
        line = (
            f"catalogue: {self.courses} courses ({self.active} active) from {self.records} records of "
            f"{len(self.sources)} sources ({self.new} new, {self.changed} changed, {self.removed} removed, "
            f"{self.merged} merged into another source's course); embedded {self.embedded}; "
            f"{self.skill_links} skill links; {self.seconds:.1f}s"
        )
        deferred = (
            [f"{self.deferred_surfaces} O*NET job titles and tasks of the taxonomy wait for the next "
             "`skillstack build`; goals resolve on ESCO's own texts until then"]
            if self.deferred_surfaces else []
        )  # fmt: skip
        return "\n".join([line, *deferred, *self.held_back_lines()])

    def held_back_lines(self) -> list[str]:
        return [
            f"{source}: {held['missing']} of its {held['listed']} courses are missing from a complete crawl; "
            f"not marked removed (more than {MAX_REMOVAL_SHARE:.0%}); `skillstack build --allow-mass-removal` "
            "removes them"
            for source, held in sorted(self.held_back.items())
        ]


def embedding_text(course: dict) -> str:
    """What a course is embedded as: its text with only the declared tags that agree with it."""
    return tag_check.course_text(course)


def usable_runs(crawl: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The finished runs whose items make up the catalogue, per source.

    A run is *complete* when it read the whole source cleanly: not limited (`--limit`), not partial
    (`--url`, or only the pages a sitemap says changed), without errors and with at least one item.
    Per source, the items come from its latest complete run and every finished run after it
    (incremental re-crawls add to it); a source with no complete run yet uses all its finished runs.
    A run killed midway stays `running` and is never used.
    """
    return crawl.execute(
        """
        WITH finished AS (
            SELECT source, run_id, finished_at,
                   coalesce(errors, 0) = 0 AND coalesce(items, 0) > 0
                   AND coalesce(json_extract(stats, '$."skillstack/limit"')::INTEGER, 0) = 0
                   AND json_extract(stats, '$."skillstack/partial"') IS NULL AS complete
            FROM crawl_runs WHERE status = 'finished'
        ), anchors AS (
            SELECT source, max(finished_at) AS anchored_at FROM finished WHERE complete GROUP BY source
        )
        SELECT f.source, f.run_id, f.finished_at, f.complete, a.anchored_at IS NOT NULL AS source_complete
        FROM finished f LEFT JOIN anchors a USING (source)
        WHERE a.anchored_at IS NULL OR f.finished_at >= a.anchored_at
        ORDER BY f.source, f.finished_at
        """
    ).df()


def read_latest_items(crawl_db: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(usable runs, the whole crawl history); `_latest_items` streams the runs' items."""
    if not crawl_db.exists() or crawl_db.stat().st_size == 0:  # 0 bytes: a create that failed
        raise BuildError("no crawl yet: run `skillstack crawl` first")
    with duckdb.connect(str(crawl_db), read_only=True) as crawl:
        runs = usable_runs(crawl)
        if runs.empty:
            raise BuildError("no finished crawl run: run `skillstack crawl` first")
        history = crawl.execute("SELECT * FROM crawl_runs ORDER BY started_at").df()
    return runs, history


def _latest_items(crawl_db: Path, runs: pd.DataFrame) -> Iterator[tuple]:
    """The newest item of each course across the usable runs: (source, course_id, url, item JSON,
    seen_at), read a batch at a time (a 250k-course crawl's raw JSON is gigabytes as Python strings,
    and each item is needed only until it is normalised)."""
    with duckdb.connect(str(crawl_db), read_only=True) as crawl:
        crawl.register("usable_runs", runs[["source", "run_id", "finished_at"]])
        cursor = crawl.execute(f"SELECT source, course_id, url, item, seen_at FROM ({_LATEST_ITEMS.format(db='')})")
        while batch := cursor.fetchmany(ITEMS_PER_READ):
            yield from batch


# The newest item of each course across `usable_runs`, in the crawl database `{db}`.
_LATEST_ITEMS = """
    SELECT i.source, i.course_id, i.url, i.item, r.finished_at AS seen_at
    FROM {db}crawl_items i JOIN usable_runs r USING (run_id, source)
    QUALIFY row_number() OVER (PARTITION BY i.source, i.course_id ORDER BY r.finished_at DESC) = 1
"""


def _carry_unchanged_records(
    con: duckdb.DuckDBPyConnection, crawl_db: Path, runs: pd.DataFrame, full_crawls: set[str], report: BuildReport
) -> bool:
    """When no item changed since the previous build, carry its records and courses over; True if it did.

    The previous build grouped exactly these records, so reading every item into Python again,
    normalising and grouping them (most of a no-change rebuild's time: ~80 s at 250k courses) would
    give the same rows. This is decided in SQL: every item's hash (`item_hash`, taken the same way)
    equals its active record's, no active record of a completely crawled source is missing, and the
    items with no record at all (checked in Python, at most `CARRY_MAX_NEW_ITEMS`) make none.
    Only `last_seen` moves, to the newest crawl that saw each record.
    """
    if not {"course_records", "courses", "catalog_meta"} <= previous_tables(con):
        return False
    meta = dict(con.execute("SELECT key, value FROM prev.catalog_meta").fetchall())
    if meta.get("records") != RECORDS_KEY or "report" not in meta:
        return False
    con.execute(f"ATTACH {sql_string(crawl_db)} AS crawl (READ_ONLY)")
    con.register("usable_runs", runs[["source", "run_id", "finished_at"]])
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE latest_items AS
            SELECT source, course_id AS id, left(sha256(? || item), 32) AS item_hash, seen_at
            FROM ({_LATEST_ITEMS.format(db="crawl.")})
            """,
            [NORMALISER_KEY],
        )
        if not _nothing_changed(con, full_crawls):
            return False
        con.execute(
            """
            INSERT INTO course_records BY NAME
            SELECT r.* REPLACE (coalesce(l.seen_at, r.last_seen) AS last_seen)
            FROM prev.course_records r LEFT JOIN latest_items l USING (id)
            """
        )
        con.execute(
            """
            INSERT INTO courses BY NAME
            SELECT c.* REPLACE (coalesce(s.last_seen, c.last_seen) AS last_seen)
            FROM prev.courses c
            LEFT JOIN (SELECT course_id, max(last_seen) AS last_seen FROM course_records GROUP BY course_id) s
                ON s.course_id = c.id
            """
        )
        before = json.loads(meta["report"])
        report.merged = before.get("merged", 0)
        report.merged_pairs = before.get("merged_pairs", {})
        report.ambiguous = before.get("ambiguous", 0)
        (report.records,) = con.execute("SELECT count(*) FROM course_records").fetchone()
        report.courses, report.active = con.execute(
            "SELECT count(*), count(*) FILTER (status = 'active') FROM courses"
        ).fetchone()
        for source, active in con.execute(
            "SELECT l.source, count(*) FROM latest_items l JOIN course_records r USING (id) GROUP BY l.source"
        ).fetchall():
            _source_counts(report, source)["active"] = active
        log.info("no item changed since the previous build: its %d records and %d courses carried over",
                 report.records, report.courses)  # fmt: skip
        return True
    finally:
        con.execute("DROP TABLE IF EXISTS latest_items")
        con.unregister("usable_runs")
        con.execute("DETACH crawl")


def _nothing_changed(con: duckdb.DuckDBPyConnection, full_crawls: set[str]) -> bool:
    (items, distinct) = con.execute("SELECT count(*), count(DISTINCT id) FROM latest_items").fetchone()
    if items != distinct:  # a course id under two sources: the Python path decides which record wins
        return False
    (changed,) = con.execute(
        """
        SELECT count(*) FROM latest_items l JOIN prev.course_records r USING (id)
        WHERE r.item_hash IS DISTINCT FROM l.item_hash OR r.status <> 'active'
        """
    ).fetchone()
    (gone,) = con.execute(
        """
        SELECT count(*) FROM prev.course_records r
        WHERE r.status = 'active' AND r.source IN (SELECT unnest(?)) AND r.id NOT IN (SELECT id FROM latest_items)
        """,
        [sorted(full_crawls)],
    ).fetchone()
    if changed or gone:
        return False
    unknown = con.execute(
        f"""
        SELECT i.item FROM ({_LATEST_ITEMS.format(db="crawl.")}) i
        WHERE i.course_id NOT IN (SELECT id FROM prev.course_records)
        LIMIT {CARRY_MAX_NEW_ITEMS + 1}
        """
    ).fetchall()
    if len(unknown) > CARRY_MAX_NEW_ITEMS:
        return False
    # An item without a name or URL makes no record (`normalise_items`); any other is new.
    return not any(
        course.get("name") and course.get("url") for course in (normalise_item(json.loads(i)) for (i,) in unknown)
    )


def normalise_items(items: Iterable[tuple], previous: dict[str, dict] | None = None) -> list[dict]:
    """The normalised record of each (source, course_id, url, item JSON, seen_at) row; an item the
    previous build read unchanged (same raw JSON, same normaliser code) reuses that build's values
    instead of being parsed and normalised again."""
    previous = previous or {}
    courses: dict[str, dict] = {}
    for source, course_id, _url, item, seen_at in items:
        item_hash = embed.content_hash(NORMALISER_KEY + item)
        before = previous.get(course_id)
        if before is not None and before.get("item_hash") == item_hash:
            course = _as_normalised(before)
        else:
            course = normalise_item(json.loads(item))
        if not course.get("name") or not course.get("url"):
            continue
        course["id"] = course_id
        course["source"] = source
        course["provider"] = course.get("provider") or source
        course["seen_at"] = seen_at
        course["item_hash"] = item_hash
        # A source may list a course twice in one run; the last record wins.
        courses[course_id] = course
    return list(courses.values())


def _as_normalised(record: dict) -> dict:
    """A record read back from the catalogue as `normalise_item` returned it: None for missing values,
    lists and dicts rather than arrays and JSON text."""
    course = {key: record.get(key) for key in normalise.ITEM_KEYS}
    course["skills_declared"] = list(course["skills_declared"] or [])
    extras = course["extras"]
    course["extras"] = json.loads(extras) if isinstance(extras, str) else (extras or {})
    if course["rating_count"] is not None:
        course["rating_count"] = int(course["rating_count"])
    return course


def build_catalog(
    crawl_db: Path,
    catalog_db: Path,
    *,
    now: datetime | None = None,
    allow_mass_removal: bool = False,
    defer_onet: bool = False,
) -> BuildReport:
    """Build the catalogue from the usable runs of `crawl_db` and publish it as `catalog_db`.

    `allow_mass_removal`: let a complete crawl mark more than MAX_REMOVAL_SHARE of a source removed.
    `defer_onet`: embed only ESCO's texts of the taxonomy that have no vector yet, so that a first run
    serves sooner; the next build without it embeds the O*NET texts (surfaces.py).
    """
    started = time.perf_counter()
    report = BuildReport()
    runs, history = read_latest_items(crawl_db)
    newest = runs.drop_duplicates("source", keep="last")
    report.sources = dict(zip(newest.source, newest.run_id, strict=True))
    # Only a source with a complete crawl may have courses marked removed: a limited or partial
    # crawl, or one that lost a page to an error, would otherwise "remove" what it never saw.
    full_crawls = set(runs.source[runs.source_complete])

    built_at = now or datetime.now()

    carry = (*TAXONOMY_TABLES, "course_embeddings", "sentence_skills", "offers")
    with publishing(catalog_db, carry_over=carry) as con:
        # DuckDB's buffers beside the model and the records: its default (80 % of the machine)
        # would let a 250k build's inserts and joins hold gigabytes that spilling to disk avoids.
        con.execute(f"SET memory_limit = '{BUILD_DUCKDB_MEMORY}'")
        # A catalogue holds the vectors of one model variant: a build in another variant embeds
        # everything again, and no reader can meet vectors of two forms (nor the catalogue carry
        # a second copy of the taxonomy's 200k vectors).
        _drop_other_models(con)
        # The records live in Python only inside this call: the model's pass below reads the
        # course texts back from the catalogue a chunk at a time, with the records freed.
        _write_courses(con, crawl_db, runs, full_crawls, report, allow_mass_removal)
        report.own_pages = _use_listed_pages(con, crawl_db)
        _record_offer_changes(con, built_at)
        con.register("crawl_history", history)
        con.execute("DELETE FROM crawl_runs")
        con.execute("INSERT INTO crawl_runs SELECT * FROM crawl_history")
        con.unregister("crawl_history")

        tick = time.perf_counter()
        surfaces.ensure_taxonomy_vectors(con, defer_onet=defer_onet)
        report.deferred_surfaces = surfaces.surfaces_without_vectors(con) if defer_onet else 0
        report.timings["taxonomy_vectors"] = time.perf_counter() - tick

        # One forward pass per new course text: its vector and the skills its sentences name.
        tick = time.perf_counter()
        report.embedded += skills.read_courses(con)
        report.timings["embed_and_read_skills"] = time.perf_counter() - tick

        tick = time.perf_counter()
        report.skill_links = skills.link_course_skills(con)
        report.timings["link_skills"] = time.perf_counter() - tick

        report.seconds = time.perf_counter() - started
        _write_meta(con, {"built_at": built_at.isoformat(timespec="seconds"), "model": embed.MODEL_KEY,
                          "model_variant": model_variant(), "linker": skills.linker_key(con), "records": RECORDS_KEY,
                          "deferred_surfaces": str(report.deferred_surfaces),
                          "report": json.dumps(report.as_dict(), default=str)})  # fmt: skip
    return report


def _write_courses(con: duckdb.DuckDBPyConnection, crawl_db: Path, runs: pd.DataFrame, full_crawls: set[str],
                   report: BuildReport, allow_mass_removal: bool = False) -> None:  # fmt: skip
    """Normalise the items, merge them with the previous catalogue's records, group the records
    into courses and write `courses` and `course_records`."""
    tick = time.perf_counter()
    if _carry_unchanged_records(con, crawl_db, runs, full_crawls, report):
        report.timings["carry_records"] = time.perf_counter() - tick
        return
    previous, previous_course_id = _previous_records(con)
    fresh = normalise_items(_latest_items(crawl_db, runs), previous)
    report.timings["normalise"] = time.perf_counter() - tick
    records = _merge_with_previous(fresh, previous, full_crawls, report, allow_mass_removal)
    del fresh, previous

    tick = time.perf_counter()
    grouping = dedupe.group_records(records, lambda chosen: _vectors(con, chosen, report))
    rows = []
    ids = dedupe.course_ids(grouping.groups, previous_course_id)
    for group, course_id in zip(grouping.groups, ids, strict=True):
        course = dedupe.merge_group(group, course_id)
        for record in group:
            record["course_id"] = course["id"]
        rows.append(course)
    tick_tags = time.perf_counter()
    report.tags_disagree = tag_check.check_tags(con, [r for r in rows if r["status"] == "active"])
    report.timings["check_tags"] = time.perf_counter() - tick_tags
    for course in rows:
        course["content_hash"] = embed.content_hash(embedding_text(course))
    report.records = len(records)
    report.merged = grouping.merged_records
    report.merged_pairs = dict(grouping.merged_pairs.most_common())
    report.ambiguous = grouping.ambiguous
    report.courses = len(rows)
    report.active = sum(r["status"] == "active" for r in rows)
    report.timings["dedupe"] = time.perf_counter() - tick
    del grouping

    tick = time.perf_counter()
    _write_rows(con, "courses", rows, (*COURSE_COLUMNS, "tags_trusted"))
    del rows
    _write_rows(con, "course_records", records, ("course_id", *COURSE_COLUMNS, "item_hash"))
    report.timings["write"] = time.perf_counter() - tick


def _use_listed_pages(con: duckdb.DuckDBPyConnection, crawl_db: Path) -> int:
    """Give each course whose URL is only a search at its provider ("coursera.org/search?query=...")
    the course page a sitemap of that provider lists under its title's slug, when one does; the
    number of courses given one. Its records keep the URL their source gave."""
    with duckdb.connect(str(crawl_db), read_only=True) as crawl:
        tables = {name for (name,) in crawl.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "sitemap_pages" not in tables:
            return 0
        listed = crawl.execute(
            "SELECT DISTINCT provider, loc FROM sitemap_pages WHERE provider IS NOT NULL ORDER BY provider, loc"
        ).fetchall()
    if not listed:
        return 0
    pages: dict[tuple[str, str], str] = {}
    for provider, loc in listed:
        slug = loc.rstrip("/").rsplit("/", 1)[-1]
        pages.setdefault((provider, slug), loc)
    providers = sorted({provider for provider, _ in listed})
    candidates = con.execute(
        "SELECT id, provider, name, url FROM courses WHERE list_contains(?, provider)", [providers]
    ).fetchall()
    found = [
        (pages[(provider, normalise.title_slug(name))], course_id)
        for course_id, provider, name, url in candidates
        if is_search_url(url) and (provider, normalise.title_slug(name)) in pages
    ]
    if found:
        con.register("own_pages", pd.DataFrame(found, columns=["url", "id"]))
        con.execute("UPDATE courses SET url = own_pages.url FROM own_pages WHERE courses.id = own_pages.id")
        con.unregister("own_pages")
    return len(found)


def _previous_records(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, dict], dict[str, str]]:
    """The previous catalogue's source records by id, and the course each was grouped into.

    A catalogue built before de-duplication has no `course_records`: its courses are its records."""
    tables = previous_tables(con)
    if "course_records" in tables:
        cursor = con.execute("SELECT * FROM prev.course_records")
    elif "courses" in tables:
        cursor = con.execute("SELECT *, id AS course_id FROM prev.courses")
    else:
        return {}, {}
    # Read as Python values (None, lists, floats, datetimes), as a fresh record holds them.
    columns = [d[0] for d in cursor.description]
    records, course_of = {}, {}
    while batch := cursor.fetchmany(ITEMS_PER_READ):
        for values in batch:
            record = dict(zip(columns, values, strict=True))
            course_of[record["id"]] = record.pop("course_id")
            records[record["id"]] = record
    return records, course_of


def _merge_with_previous(
    fresh: list[dict],
    previous: dict[str, dict],
    full_crawls: set[str],
    report: BuildReport,
    allow_mass_removal: bool = False,
) -> list[dict]:
    rows: list[dict] = []
    seen: set[str] = set()
    for course in fresh:
        course["content_hash"] = embed.content_hash(embedding_text(course))
        before = previous.get(course["id"])
        course["first_seen"] = before["first_seen"] if before else course["seen_at"]
        course["last_seen"] = course["seen_at"]
        course["status"] = "active"
        counts = _source_counts(report, course["source"])
        counts["active"] += 1
        if before is None:
            report.new += 1
            counts["new"] += 1
        elif before["content_hash"] != course["content_hash"] or not _same(before["price"], course["price"]):
            report.changed += 1
            counts["changed"] += 1
        rows.append(course)
        seen.add(course["id"])
    held_back = set() if allow_mass_removal else _mass_removals(previous, seen, full_crawls, report)
    for course_id, before in previous.items():
        if course_id in seen:
            continue
        # Absent from its source's latest crawl: removed only when that crawl was complete
        # (not limited, not failed) and did not lose most of the source; otherwise the course is
        # carried over as it was.
        if before["source"] in full_crawls and before["status"] != "removed" and before["source"] not in held_back:
            before = {**before, "status": "removed"}
            report.removed += 1
            _source_counts(report, before["source"])["removed"] += 1
        before["extras"] = json.loads(before["extras"]) if isinstance(before["extras"], str) else before["extras"]
        rows.append(before)
    return rows


def _mass_removals(previous: dict[str, dict], seen: set[str], full_crawls: set[str], report: BuildReport) -> set[str]:
    """The sources whose complete crawl no longer lists more than MAX_REMOVAL_SHARE of the courses
    they listed; noted in `report.held_back`."""
    listed: dict[str, int] = {}
    missing: dict[str, int] = {}
    for course_id, before in previous.items():
        if before["status"] == "removed" or before["source"] not in full_crawls:
            continue
        listed[before["source"]] = listed.get(before["source"], 0) + 1
        if course_id not in seen:
            missing[before["source"]] = missing.get(before["source"], 0) + 1
    for source, count in missing.items():
        if count > MAX_REMOVAL_SHARE * listed[source]:
            report.held_back[source] = {"missing": count, "listed": listed[source]}
    for line in report.held_back_lines():
        log.warning("%s", line)
    return set(report.held_back)


def _source_counts(report: BuildReport, source: str) -> dict[str, int]:
    return report.per_source.setdefault(source, {"active": 0, "new": 0, "changed": 0, "removed": 0})


def _same(a, b) -> bool:
    """Equal, with a missing price (None or NaN from the previous catalogue) equal to a missing price."""
    a_missing = a is None or (isinstance(a, float) and np.isnan(a))
    b_missing = b is None or (isinstance(b, float) and np.isnan(b))
    return (a_missing and b_missing) or (not a_missing and not b_missing and float(a) == float(b))


def _drop_other_models(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("course_embeddings", "taxonomy_vectors"):  # identifiers from a constant
        con.execute(f"DELETE FROM {table} WHERE model <> ?", [embed.MODEL_KEY])


def _vectors(con: duckdb.DuckDBPyConnection, records: list[dict], report: BuildReport) -> np.ndarray:
    """The text vectors of some records (de-duplication's tie-breaker), embedded once and kept."""
    hashes = [embed.content_hash(embedding_text(record)) for record in records]
    report.embedded += _embed_missing(con, [{**r, "content_hash": h} for r, h in zip(records, hashes, strict=True)])
    frame = con.execute(
        "SELECT content_hash, vector FROM course_embeddings WHERE model = ? AND content_hash IN (SELECT unnest(?))",
        [embed.MODEL_KEY, hashes],
    ).df()
    found = dict(zip(frame["content_hash"], frame["vector"], strict=True))
    return np.vstack([np.asarray(found[h], dtype=np.float32) for h in hashes])


def _embed_missing(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> int:
    """Embed the texts of `rows` whose content hash has no vector yet; returns how many were embedded."""
    known = {
        h
        for (h,) in con.execute(
            "SELECT content_hash FROM course_embeddings WHERE model = ?", [embed.MODEL_KEY]
        ).fetchall()
    }
    todo: dict[str, str] = {}
    for row in rows:
        if row["content_hash"] not in known and row["content_hash"] not in todo:
            todo[row["content_hash"]] = embedding_text(row)
    if not todo:
        return 0
    hashes = list(todo)
    vectors = embed.encode_documents([todo[h] for h in hashes])
    frame = pd.DataFrame({"content_hash": hashes, "model": embed.MODEL_KEY, "vector": list(vectors)})
    con.register("new_vectors", frame)
    con.execute("INSERT INTO course_embeddings SELECT content_hash, model, vector::FLOAT[384] FROM new_vectors")
    con.unregister("new_vectors")
    return len(hashes)


def _write_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict], columns: tuple[str, ...]) -> None:
    """Write course rows into `courses` or `course_records` (a name from this module, never input)."""
    # Column by column into Arrow, which DuckDB scans without converting each value: a DataFrame of
    # 250k row dicts cost a second copy of every row and most of the write's time.
    arrays = {}
    for column in columns:
        values = [row.get(column) for row in rows]
        if column == "extras":
            values = [json.dumps(e or {}, default=str, ensure_ascii=False) for e in values]
        elif column == "skills_declared":
            values = [[str(t) for t in s] if s is not None and len(s) else [] for s in values]
        elif column in _NUMBER_COLUMNS:
            values = [_number(v) for v in values]
        elif column in ("first_seen", "last_seen"):
            values = [v.to_pydatetime() if isinstance(v, pd.Timestamp) else v for v in values]
        elif column == "tags_trusted":
            values = [None if v is None else bool(v) for v in values]
        else:
            values = [v if v is None or isinstance(v, str) else str(v) for v in values]
        arrays[column] = pa.array(values, type=_ARROW_TYPES.get(column, pa.string()))
    built = pa.table(arrays)
    con.register("built_courses", built)
    names = ", ".join(columns)
    con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM built_courses")
    con.unregister("built_courses")


_NUMBER_COLUMNS = ("hours", "price", "rating", "rating_count")
_ARROW_TYPES = {
    "hours": pa.float64(), "price": pa.float64(), "rating": pa.float64(), "rating_count": pa.float64(),
    "skills_declared": pa.list_(pa.string()), "first_seen": pa.timestamp("us"), "last_seen": pa.timestamp("us"),
    "tags_trusted": pa.bool_(),
}  # fmt: skip


def _number(value) -> float | None:
    """A float, or None for a missing, NaN, infinite or unreadable value (INTEGER columns cast on insert)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _record_offer_changes(con: duckdb.DuckDBPyConnection, observed_at: datetime) -> None:
    """Add an offer row where a course's price or access model differs from its last recorded offer."""
    con.execute(
        """
        INSERT INTO offers
        SELECT c.id, c.price, c.currency, c.access_model, c.price_raw, ?
        FROM courses c
        LEFT JOIN (
            SELECT * FROM offers QUALIFY row_number() OVER (PARTITION BY course_id ORDER BY observed_at DESC) = 1
        ) o ON o.course_id = c.id
        WHERE c.status = 'active'
          AND (o.course_id IS NULL
               OR o.price IS DISTINCT FROM c.price
               OR o.access_model IS DISTINCT FROM c.access_model
               OR o.currency IS DISTINCT FROM c.currency)
        """,
        [observed_at],
    )


def _write_meta(con: duckdb.DuckDBPyConnection, values: dict[str, str]) -> None:
    con.execute("DELETE FROM catalog_meta")
    con.executemany("INSERT INTO catalog_meta VALUES (?, ?)", list(values.items()))
