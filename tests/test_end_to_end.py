"""The whole path on real data: taxonomy load → crawl (mirror) → build → recommend, through the CLI."""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from recommender.api import Filters
from recommender.engine import Engine
from tests.helpers import CATALOG_LIMIT, CATALOG_SOURCES, run_skillstack

RESULT_KEYS = {"course_id", "title", "provider", "url", "score", "credential", "hours", "price", "matched_skills"}


@pytest.mark.slow
def test_catalog_holds_every_crawled_course_with_vectors(built_home: Path):
    con = duckdb.connect(str(built_home / "catalog.duckdb"), read_only=True)
    try:
        by_source = dict(con.execute("SELECT source, count(*) FROM course_records GROUP BY source").fetchall())
        missing_vectors = con.execute(
            """
            SELECT count(*) FROM courses c
            LEFT JOIN course_embeddings e ON e.content_hash = c.content_hash
            WHERE e.content_hash IS NULL
            """
        ).fetchone()[0]
    finally:
        con.close()
    assert by_source == dict.fromkeys(CATALOG_SOURCES, CATALOG_LIMIT)
    assert missing_vectors == 0


@pytest.mark.slow
def test_taxonomy_is_carried_into_the_built_catalogue(built_home: Path):
    con = duckdb.connect(str(built_home / "catalog.duckdb"), read_only=True)
    try:
        counts = con.execute("SELECT (SELECT count(*) FROM skills), (SELECT count(*) FROM occupations)").fetchone()
    finally:
        con.close()
    assert counts == (13_896, 3_007)


@pytest.mark.slow
def test_excel_course_links_to_spreadsheet_skills(built_home: Path):
    con = duckdb.connect(str(built_home / "catalog.duckdb"), read_only=True)
    try:
        labels = [
            label
            for (label,) in con.execute(
                """
                SELECT s.label FROM courses c
                JOIN course_skills cs ON cs.course_id = c.id JOIN skills s ON s.uri = cs.skill_uri
                WHERE c.name = ? AND c.source = ?
                """,
                ["Getting Started with Microsoft Excel", "coursera_skills_2024"],
            ).fetchall()
        ]
    finally:
        con.close()
    assert any("spreadsheet" in label.lower() for label in labels), labels


@pytest.mark.slow
def test_recommend_data_analyst_returns_data_analysis_courses(built_home: Path):
    result = run_skillstack(built_home, "recommend", "I want to become a data analyst", "--json", "--k", "10")
    payload = json.loads(result.stdout)
    assert payload["goal"] == "I want to become a data analyst"
    assert payload["occupations"][0]["label"] == "data analyst"
    results = payload["results"]
    assert len(results) == 10
    assert all(set(r) >= RESULT_KEYS for r in results)
    titles = [r["title"].lower() for r in results]
    assert any("data analy" in t for t in titles), titles
    assert any(r["matched_skills"] for r in results), "no result names a required skill it covers"
    # The order shown is the order of the scores shown.
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.slow
def test_readable_list_shows_hours_without_false_precision(built_home: Path):
    goal = ["recommend", "I want to become a data analyst", "--k", "10"]
    results = json.loads(run_skillstack(built_home, *goal, "--json").stdout)["results"]
    # A result's line ends in its score ("[0.680]"); the stack's numbered steps follow without one.
    readable = run_skillstack(built_home, *goal).stdout.splitlines()
    lines = [line for line in readable if re.search(r"\[\d\.\d{3}\]$", line)]
    assert len(lines) == len(results) == 10
    # Coursera's "3 - 6 Months" and "1 - 3 Months" at 10 h a week: 195.67 h and 86.96 h in the catalogue.
    estimated = [r["hours"] for r in results if r["hours"] and r["hours"] >= 10 and r["hours"] != int(r["hours"])]
    assert estimated, "no result of this goal has an estimated length to show"
    for result, line in zip(results, lines, strict=True):
        assert result["title"] in line
        if result["hours"] and result["hours"] >= 10:
            assert f" {round(result['hours'])} h " in line, line


@pytest.mark.slow
def test_the_top_ten_show_each_course_once(built_home: Path):
    eng = Engine.open(built_home / "catalog.duckdb")
    for goal in ("project manager", "software developer", "data analyst"):
        [occupation] = eng.resolve_goal(goal, k=1)
        ranking = eng.rank(goal, occupation, eng.required_skills(occupation.uri), Filters(), k=10)
        shown = [eng.course_row[result["course_id"]] for result in ranking.results]
        # One provider's course under two titles or as a near-identical text is one result.
        assert _copies(eng, shown) == 0, goal
        scores = [result["score"] for result in ranking.results]
        assert scores == sorted(scores, reverse=True), goal


def _copies(eng: Engine, rows: list[int]) -> int:
    """Pairs of rows that are one provider's same course: the same folded title, or cosine >= 0.95."""
    providers = eng.courses["provider"].to_numpy()
    titles = [" ".join(re.findall(r"\w+", t.casefold())) for t in eng.courses["name"].to_numpy()[rows]]
    vectors = eng.course_matrix[rows]
    pairs = 0
    for a in range(len(rows)):
        for b in range(a + 1, len(rows)):
            same = titles[a] == titles[b] or float(vectors[a] @ vectors[b]) >= 0.95
            pairs += bool(same and providers[rows[a]] == providers[rows[b]])
    return pairs


@pytest.mark.slow
def test_goals_file_gives_one_json_line_per_goal(built_home: Path, tmp_path: Path):
    goals = tmp_path / "goals.txt"
    goals.write_text("data analyst\n\nwelder\nprotect companies from hackers\n", encoding="utf-8")
    result = run_skillstack(built_home, "recommend", "--goals-file", str(goals), "--k", "3", "--json")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["goal"] for line in lines] == ["data analyst", "welder", "protect companies from hackers"]
    assert lines[1]["occupations"][0]["label"] == "welder"
    # A goal the catalogue has fewer fitting courses for says so instead of padding the list.
    assert len(lines[0]["results"]) == 3
    assert all(len(line["results"]) == 3 or line["notes"] for line in lines)


@pytest.mark.slow
def test_skills_extract_and_goals_resolve_follow_the_contract(built_home: Path):
    skills = json.loads(
        run_skillstack(built_home, "skills", "extract", "analyse data in spreadsheets", "--json").stdout
    )
    assert skills["text"] == "analyse data in spreadsheets"
    assert len(skills["skills"]) == 10
    assert set(skills["skills"][0]) == {"uri", "label", "score"}
    assert skills["skills"][0]["uri"].startswith("http://data.europa.eu/esco/skill/")

    goals = json.loads(run_skillstack(built_home, "goals", "resolve", "welder", "--json", "--k", "3").stdout)
    assert goals["occupations"][0]["label"] == "welder"
    assert len(goals["occupations"]) == 3


@pytest.mark.slow
def test_free_filter_returns_no_paid_course(built_home: Path):
    payload = json.loads(
        run_skillstack(built_home, "recommend", "web developer", "--free", "--json", "--k", "20").stdout
    )
    assert payload["results"]
    assert all(r["price"] in (0, None) or r["access_model"] != "paid" for r in payload["results"])
    assert all(r["access_model"] in ("free", "free-audit+paid-certificate") for r in payload["results"])


@pytest.mark.slow
def test_rebuild_with_unchanged_sources_embeds_nothing(built_home: Path):
    con = duckdb.connect(str(built_home / "catalog.duckdb"), read_only=True)
    try:
        links_before = con.execute("SELECT count(*) FROM course_skills").fetchone()[0]
    finally:
        con.close()
    report = json.loads(run_skillstack(built_home, "build", "--json").stdout)
    assert report["embedded"] == 0
    # Skill links of unchanged texts come from the extractor's cache, and come out the same.
    assert report["skill_links"] == links_before
    assert report["new"] == 0
    assert report["records"] == len(CATALOG_SOURCES) * CATALOG_LIMIT
    assert report["courses"] == report["records"] - report["merged"]


@pytest.mark.slow
def test_the_catalogue_holds_each_course_once_with_every_source_record(built_home: Path):
    con = duckdb.connect(str(built_home / "catalog.duckdb"), read_only=True)
    try:
        records, courses, orphans, report = con.execute(
            """
            SELECT (SELECT count(*) FROM course_records), (SELECT count(*) FROM courses),
                   (SELECT count(*) FROM course_records WHERE course_id NOT IN (SELECT id FROM courses)),
                   (SELECT value FROM catalog_meta WHERE key = 'report')
            """
        ).fetchone()
        one_source_twice = con.execute(
            "SELECT count(*) FROM (SELECT course_id, source FROM course_records GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()[0]
    finally:
        con.close()
    report = json.loads(report)
    assert records == len(CATALOG_SOURCES) * CATALOG_LIMIT
    assert courses == records - report["merged"]
    assert sum(report["merged_pairs"].values()) >= report["merged"] > 0
    assert (orphans, one_source_twice) == (0, 0)


@pytest.mark.slow
def test_injection_goal_returns_normally_and_leaves_the_catalogue_intact(built_home: Path):
    result = run_skillstack(built_home, "recommend", "'; DROP TABLE courses; --", "--json", "--k", "3")
    answer = json.loads(result.stdout)
    assert answer["goal"] == "'; DROP TABLE courses; --"
    assert len(answer["results"]) <= 3
    con = duckdb.connect(str(built_home / "catalog.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM course_records").fetchone()[0] == len(CATALOG_SOURCES) * CATALOG_LIMIT
    finally:
        con.close()


# ---------------------------------------------------------------- bad input: one line, what to run, exit 2


def _one_line_error(result) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.slow
def test_empty_goal_is_a_one_line_error(built_home: Path):
    line = _one_line_error(run_skillstack(built_home, "recommend", "   ", check=False))
    assert "goal" in line


def test_no_catalogue_says_what_to_run(tmp_path: Path):
    line = _one_line_error(run_skillstack(tmp_path, "recommend", "data analyst", check=False))
    assert "skillstack taxonomy load" in line
    assert "skillstack build" in line


def test_build_without_a_crawl_says_what_to_run(tmp_path: Path):
    line = _one_line_error(run_skillstack(tmp_path, "build", check=False))
    assert "skillstack crawl" in line


@pytest.mark.slow
def test_taxonomy_without_courses_says_what_to_run(tmp_path: Path):
    run_skillstack(tmp_path, "taxonomy", "load")
    line = _one_line_error(run_skillstack(tmp_path, "recommend", "data analyst", check=False))
    assert "skillstack build" in line


def test_unknown_source_is_a_one_line_error(tmp_path: Path):
    line = _one_line_error(run_skillstack(tmp_path, "crawl", "no_such_source", check=False))
    assert "no_such_source" in line
    assert "--list" in line


@pytest.mark.slow
def test_taxonomy_missing_a_table_is_loaded_again_keeping_courses_and_vectors(built_home: Path, tmp_path: Path):
    """A catalogue from before O*NET task statements were read: `--if-missing` loads the taxonomy
    again; the courses and the taxonomy vectors (the next build reconciles them) are kept."""
    home = tmp_path / "home"
    home.mkdir()
    catalog = home / "catalog.duckdb"
    shutil.copy2(built_home / "catalog.duckdb", catalog)
    count_sql = "SELECT (SELECT count(*) FROM courses), (SELECT count(*) FROM taxonomy_vectors)"
    with duckdb.connect(str(catalog)) as con:
        con.execute("DELETE FROM onet_tasks")
        before = con.execute(count_sql).fetchone()

    loaded = run_skillstack(home, "taxonomy", "load", "--if-missing")
    assert "onet_tasks 18,796" in loaded.stdout
    with duckdb.connect(str(catalog), read_only=True) as con:
        assert con.execute(count_sql).fetchone() == before
        assert con.execute("SELECT count(*) FROM onet_tasks").fetchone()[0] == 18_796
    again = run_skillstack(home, "taxonomy", "load", "--if-missing")
    assert again.stdout.startswith("taxonomy already in the catalogue")


# ---------------------------------------------------------------- the taxonomy indexes kept beside the catalogue


@pytest.mark.slow
def test_taxonomy_indexes_are_kept_and_rebuilt_when_the_taxonomy_changes(built_home: Path, tmp_path: Path, caplog):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy2(built_home / "catalog.duckdb", home / "catalog.duckdb")
    catalog = home / "catalog.duckdb"

    first = Engine.open(catalog)
    [kept] = list((home / "cache").glob("taxonomy-indexes-*"))
    assert {p.name for p in kept.iterdir()} == {"state.json", "extractor.json", "arrays"}  # no pickle
    again = Engine.open(catalog)
    assert again.resolve_goal("data analyst", k=3) == first.resolve_goal("data analyst", k=3)
    assert again.skill_extractor.extract(["SQL queries"], 3) == first.skill_extractor.extract(["SQL queries"], 3)
    # Opened for a goal (the CLI), the extractor is read at its first use only, from its own file.
    lazy = Engine.open(catalog, lazy_taxonomy=True)
    assert lazy.resolve_goal("data analyst", k=3) == first.resolve_goal("data analyst", k=3)
    assert lazy.taxonomy.extractor is None
    assert lazy.skill_extractor.extract(["SQL queries"], 3) == first.skill_extractor.extract(["SQL queries"], 3)

    # A changed taxonomy is a new fingerprint: the indexes are built again and the old file goes.
    con = duckdb.connect(str(catalog))
    try:
        con.execute("UPDATE occupations SET label = 'data wrangler' WHERE label = 'data analyst'")
    finally:
        con.close()
    changed = Engine.open(catalog)
    [rebuilt] = list((home / "cache").glob("taxonomy-indexes-*"))
    assert rebuilt != kept
    assert changed.occupation_label(first.resolve_goal("data analyst", k=1)[0].uri) == "data wrangler"

    # A damaged file is rebuilt, with a warning, never an error.
    (rebuilt / "state.json").write_bytes(b"not JSON")
    with caplog.at_level(logging.WARNING, logger="recommender.index_cache"):
        repaired = Engine.open(catalog)
    assert "rebuilding the taxonomy indexes" in caplog.text
    assert repaired.resolve_goal("data analyst", k=3) == changed.resolve_goal("data analyst", k=3)
    assert repaired.occupation_label(first.resolve_goal("data analyst", k=1)[0].uri) == "data wrangler"
