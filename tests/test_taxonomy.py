"""The taxonomy loader on the real ESCO, O*NET and crosswalk files of tests/captures."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from core.store import apply_schema
from core.taxonomy import taxonomy_loaded
from pipeline.fetch import FetchError, fetch
from pipeline.taxonomy import (
    ESCO_CLASSIFICATION_URL,
    ESCO_ONET_CROSSWALK_URL,
    ESCO_RELATIONS_URL,
    ONET_DATABASE_URL,
    TAXONOMY_TABLES,
    load_taxonomy,
    taxonomy_complete,
)
from skillstack.settings import mirror_file_for
from tests.helpers import MIRROR_DIR as MIRROR

# Row counts of the official files (PROVENANCE.md), except onet_titles: see test_onet_titles.
EXPECTED_COUNTS = {
    "skills": 13_896,
    "occupations": 3_007,
    "occupation_skills": 123_855,
    "onet_occupations": 1_016,
    "onet_titles": 56_558 + 3_442 + 7_796,
    "onet_tasks": 18_796,
    "onet_technology": 32_627,
    "esco_onet_crosswalk": 4_253,
}
DATA_ANALYST_URI = "http://data.europa.eu/esco/occupation/d3edb8f8-3a06-47a0-8fb9-9b212c006aa2"


@pytest.fixture(scope="module", autouse=True)
def _answer_from_mirror():
    """Every URL of this module is answered by the shared mirror: no test reaches the network."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKILLSTACK_MIRROR", str(MIRROR))
        yield


@pytest.fixture(scope="module")
def downloads_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, downloads_dir: Path):
    """A real catalogue file with the schema applied and the taxonomy loaded once for the module."""
    con = duckdb.connect(str(tmp_path_factory.mktemp("catalog") / "catalog.duckdb"))
    apply_schema(con)
    counts = load_taxonomy(con, downloads_dir)
    yield con, counts
    con.close()


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TAXONOMY_TABLES}


@pytest.mark.slow
def test_load_fills_every_table_with_the_official_row_counts(loaded):
    con, counts = loaded
    assert counts == EXPECTED_COUNTS
    assert table_counts(con) == EXPECTED_COUNTS
    assert taxonomy_loaded(con)
    assert taxonomy_complete(con)


@pytest.mark.slow
def test_a_catalogue_missing_one_taxonomy_table_is_not_complete(loaded):
    """A catalogue loaded before O*NET tasks were read gets the taxonomy again from `--if-missing`."""
    con, _ = loaded
    con.begin()
    try:
        con.execute("DELETE FROM onet_tasks")
        assert taxonomy_loaded(con)
        assert not taxonomy_complete(con)
    finally:
        con.rollback()
    assert taxonomy_complete(con)


def test_taxonomy_loaded_is_false_on_an_empty_catalogue():
    con = duckdb.connect()
    apply_schema(con)
    assert not taxonomy_loaded(con)


@pytest.mark.slow
def test_occupation_keeps_its_alt_labels_as_a_list(loaded):
    con, _ = loaded
    row = con.execute(
        "SELECT uri, alt_labels, isco_group, code FROM occupations WHERE label = ?", ["data analyst"]
    ).fetchone()
    assert row == (
        DATA_ANALYST_URI,
        ["data warehousing analyst", "data storage analyst", "data warehouse analyst"],
        "2511",
        "2511.3",
    )


@pytest.mark.slow
def test_skill_alt_labels_are_split_on_newlines_and_trimmed(loaded):
    con, _ = loaded
    alt_labels, skill_type = con.execute(
        "SELECT alt_labels, skill_type FROM skills WHERE label = ?", ["SQL"]
    ).fetchone()
    assert alt_labels == ["Informix 4GL/SQL", "SEQUEL", "SQL", "Subquery"]
    assert skill_type == "knowledge"
    # 97,483 alt labels in the file; 61 of them end in spaces or no-break spaces there.
    total, padded = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE label <> trim(label, ?)) "
        "FROM (SELECT unnest(alt_labels) AS label FROM skills)",
        [" \u00a0"],
    ).fetchone()
    assert (total, padded) == (97_483, 0)
    # Skills without alt labels get an empty list, not NULL.
    assert con.execute("SELECT count(*) FROM skills WHERE alt_labels IS NULL").fetchone()[0] == 0


@pytest.mark.slow
def test_occupation_skills_keep_the_relation_type(loaded):
    con, _ = loaded
    by_type = dict(con.execute("SELECT relation_type, count(*) FROM occupation_skills GROUP BY ALL").fetchall())
    assert by_type == {"essential": 64_946, "optional": 58_909}


@pytest.mark.slow
def test_onet_titles(loaded):
    con, _ = loaded
    by_kind = dict(con.execute("SELECT kind, count(*) FROM onet_titles GROUP BY ALL").fetchall())
    # Alternate Titles has 56,560 rows: 21-1014.00 lists "Licensed Mental Health Counselor (LMHC)" and
    # "Licensed Clinical Mental Health Counselor (LCMHC)" twice each. Its 3,574 non-empty short titles
    # hold 3,442 distinct (code, title) pairs. Sample of Reported Titles has 7,796 distinct rows.
    assert by_kind == {"alternate": 56_558, "short": 3_442, "reported": 7_796}
    ux_designer_codes = con.execute(
        "SELECT code FROM onet_titles WHERE title = ? AND kind = ? ORDER BY code", ["UX Designer", "short"]
    ).fetchall()
    assert ux_designer_codes == [("15-1253.00",), ("15-1255.00",)]


@pytest.mark.slow
def test_onet_occupations_and_technology(loaded):
    con, _ = loaded
    title = con.execute("SELECT title FROM onet_occupations WHERE code = ?", ["15-2051.01"]).fetchone()
    assert title == ("Business Intelligence Analysts",)
    python = con.execute(
        "SELECT commodity_title, hot, in_demand FROM onet_technology WHERE code = ? AND example = ?",
        ["15-2051.01", "Python"],
    ).fetchone()
    assert python == ("Object or component oriented development software", True, True)
    hot, in_demand = con.execute(
        "SELECT count(*) FILTER (hot), count(*) FILTER (in_demand) FROM onet_technology"
    ).fetchone()
    assert (hot, in_demand) == (9_601 + 2_020, 300 + 2_020)


@pytest.mark.slow
def test_onet_task_statements(loaded):
    con, _ = loaded
    row = con.execute("SELECT code, task, task_type FROM onet_tasks WHERE task_id = ?", ["8823"]).fetchone()
    assert row == (
        "11-1011.00",
        "Direct or coordinate an organization's financial or budget activities to fund operations, "
        "maximize investments, or increase efficiency.",
        "Core",
    )
    by_type = dict(con.execute("SELECT coalesce(task_type, 'none'), count(*) FROM onet_tasks GROUP BY ALL").fetchall())
    # 1,157 statements of the file carry no task type.
    assert by_type == {"Core": 13_417, "Supplemental": 4_222, "none": 1_157}


@pytest.mark.slow
def test_crosswalk_joins_onet_codes_to_esco_occupations(loaded):
    con, _ = loaded
    by_match = dict(con.execute("SELECT match_type, count(*) FROM esco_onet_crosswalk GROUP BY ALL").fetchall())
    assert by_match == {
        "broadMatch": 2_053,
        "closeMatch": 1_432,
        "exactMatch": 498,
        "narrowMatch": 227,
        "exactISCO": 43,
    }
    data_analyst = con.execute(
        "SELECT onet_code, match_type FROM esco_onet_crosswalk WHERE esco_uri = ? ORDER BY onet_code",
        [DATA_ANALYST_URI],
    ).fetchall()
    assert data_analyst == [("15-2051.00", "closeMatch"), ("15-2051.01", "narrowMatch")]
    # Every O*NET code of the crosswalk is a real 29.2 occupation (the metadata lines and BOM are gone).
    unknown = con.execute(
        "SELECT count(*) FROM esco_onet_crosswalk WHERE onet_code NOT IN (SELECT code FROM onet_occupations)"
    ).fetchone()[0]
    assert unknown == 0


@pytest.mark.slow
def test_second_load_replaces_rather_than_appends(loaded, downloads_dir: Path):
    con, _ = loaded
    assert load_taxonomy(con, downloads_dir) == EXPECTED_COUNTS
    assert table_counts(con) == EXPECTED_COUNTS


@pytest.mark.slow
def test_a_file_missing_from_the_mirror_fails_before_anything_is_deleted(
    loaded, downloads_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    con, _ = loaded
    # The three zips are already downloaded (and reused); only the crosswalk, fetched last, still
    # has to come from a mirror that lacks it.
    partial_downloads = tmp_path / "downloads"
    partial_downloads.mkdir()
    for url in (ESCO_CLASSIFICATION_URL, ESCO_RELATIONS_URL, ONET_DATABASE_URL):
        name = mirror_file_for(url, MIRROR).name
        os.link(downloads_dir / name, partial_downloads / name)
    empty_mirror = tmp_path / "mirror"
    empty_mirror.mkdir()
    monkeypatch.setenv("SKILLSTACK_MIRROR", str(empty_mirror))

    with pytest.raises(FetchError) as failure:
        load_taxonomy(con, partial_downloads)

    assert str(failure.value) == f"{ESCO_ONET_CROSSWALK_URL}: not in the mirror (404)"
    assert "\n" not in str(failure.value)
    assert table_counts(con) == EXPECTED_COUNTS


def test_fetch_copies_from_the_mirror_under_the_unquoted_file_name(tmp_path: Path):
    path = fetch(ESCO_RELATIONS_URL, tmp_path)
    assert path == tmp_path / "ESCO dataset - v1.1.1 - classification -  - csv.zip"
    assert path.read_bytes() == mirror_file_for(ESCO_RELATIONS_URL, MIRROR).read_bytes()
    assert sorted(tmp_path.iterdir()) == [path]


def test_fetch_reuses_a_nonempty_file_and_replaces_an_empty_one(tmp_path: Path):
    crosswalk = tmp_path / "crosswalk_esco_onet.csv"
    crosswalk.write_bytes(b"kept")
    assert fetch(ESCO_ONET_CROSSWALK_URL, tmp_path).read_bytes() == b"kept"
    crosswalk.write_bytes(b"")
    assert fetch(ESCO_ONET_CROSSWALK_URL, tmp_path).stat().st_size == 2_986_823


def test_fetch_never_leaves_a_file_for_a_url_the_mirror_lacks(tmp_path: Path):
    url = "https://www.onetcenter.org/dl_files/database/db_99_9_text.zip"
    with pytest.raises(FetchError, match=r"^https://www\.onetcenter\.org/\S+: not in the mirror \(404\)$"):
        fetch(url, tmp_path / "downloads")
    assert list((tmp_path / "downloads").iterdir()) == []


def test_fetch_without_a_mirror_downloads_with_urllib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # A file: URL goes through the same urllib path as https, without any network.
    monkeypatch.delenv("SKILLSTACK_MIRROR")
    source = tmp_path / "served" / "with space.csv"
    source.parent.mkdir()
    source.write_text("a,b\n1,2\n")
    downloaded = fetch(f"file://{source}", tmp_path / "downloads")
    assert downloaded == tmp_path / "downloads" / "with space.csv"
    assert downloaded.read_text() == "a,b\n1,2\n"

    with pytest.raises(FetchError) as failure:
        fetch(f"file://{tmp_path}/served/missing.csv", tmp_path / "downloads")
    assert str(failure.value).startswith(f"file://{tmp_path}/served/missing.csv: ")
    assert "\n" not in str(failure.value)
    assert sorted(path.name for path in (tmp_path / "downloads").iterdir()) == ["with space.csv"]
