"""Load ESCO v1.1.1, O*NET 29.2 and the official ESCO–O*NET crosswalk into the catalogue tables.

The four official files are downloaded (or taken from the mirror) into a downloads folder, the needed
zip members are extracted beside them, and DuckDB's CSV reader fills the tables in one transaction.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import duckdb

from pipeline.fetch import atomic_write, fetch

# The official downloads. The ESCO portal serves its zips only behind a form, so they are fetched
# from tabiya-tech's byte copy (md5s match the official ones); the spaces (two in a row in the
# relations file) are part of the official file names.
ESCO_CLASSIFICATION_URL = (
    "https://raw.githubusercontent.com/tabiya-tech/tabiya-esco-datasets-and-tools/"
    "1cd5a780e6a3d440e8f01da32d590954fb02bd14/datasets/esco/v1.1.1/classification/"
    "ESCO dataset - v1.1.1 - classification - en - csv.zip"
)
ESCO_RELATIONS_URL = (
    "https://raw.githubusercontent.com/tabiya-tech/tabiya-esco-datasets-and-tools/"
    "1cd5a780e6a3d440e8f01da32d590954fb02bd14/datasets/esco/v1.1.1/relations/"
    "ESCO dataset - v1.1.1 - classification -  - csv.zip"
)
ONET_DATABASE_URL = "https://www.onetcenter.org/dl_files/database/db_29_2_text.zip"
ESCO_ONET_CROSSWALK_URL = (
    "https://raw.githubusercontent.com/Avature/melo-benchmark/59a5753ac136dd829fe53bbe29c90f8431d8f4b3/"
    "data/raw/crosswalks_original/onet_vs_esco/crosswalk_esco_onet.csv"
)

ESCO_ATTRIBUTION = "This service uses the ESCO classification of the European Commission (ESCO v1.1.1)."
ONET_ATTRIBUTION = (
    "This product includes information from the O*NET 29.2 Database by the U.S. Department of Labor, "
    "Employment and Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. "
    "O*NET® is a trademark of USDOL/ETA."
)
# Both licences ask for modifications to be flagged.
MODIFICATION_NOTE = (
    "skillstack converted the ESCO and O*NET tables in format: selected columns were loaded into its "
    "database, alternative labels split into lists and duplicate job titles removed."
)
ATTRIBUTION = f"{ESCO_ATTRIBUTION}\n{ONET_ATTRIBUTION}\n{MODIFICATION_NOTE}"

# In the order they are filled; all are emptied before any is filled.
TAXONOMY_TABLES = (
    "skills",
    "occupations",
    "occupation_skills",
    "onet_occupations",
    "onet_titles",
    "onet_tasks",
    "onet_technology",
    "esco_onet_crosswalk",
)

# ESCO puts several alternative labels in one quoted cell, one per line; a few carry trailing
# spaces or no-break spaces.
ALT_LABEL_SEPARATOR = "\n"
LABEL_PADDING = " \t\u00a0"
# onet_titles.kind per O*NET column: Alternate Title, Short Title (same file), Reported Job Title.
TITLE_KINDS = {"kind_alternate": "alternate", "kind_short": "short", "kind_reported": "reported"}
# O*NET flags ("Hot Technology", "In Demand") are Y/N.
ONET_YES = "Y"


@dataclass(frozen=True)
class TaxonomyFiles:
    """The extracted tables `load_taxonomy` reads."""

    esco_skills: Path
    esco_occupations: Path
    esco_occupation_skills: Path
    onet_occupations: Path
    onet_alternate_titles: Path
    onet_reported_titles: Path
    onet_task_statements: Path
    onet_technology_skills: Path
    esco_onet_crosswalk: Path


def load_taxonomy(con: duckdb.DuckDBPyConnection, downloads_dir: Path) -> dict[str, int]:
    """Replace the taxonomy tables with the official files; return the rows loaded per table.

    Expects the schema (`core.store.apply_schema`) and no transaction open on `con`. Safe to
    re-run: each table is emptied and refilled inside one transaction, and every file is fetched
    before anything is deleted, so a failed download or load leaves the previous taxonomy in place.
    """
    files = prepare_taxonomy_files(downloads_dir)
    con.begin()
    try:
        for table in TAXONOMY_TABLES:  # names from the constant above, never from input
            con.execute(f"DELETE FROM {table}")
        esco_labels = {"alt_label_separator": ALT_LABEL_SEPARATOR, "label_padding": LABEL_PADDING}
        counts = {
            "skills": _insert(con, _INSERT_SKILLS, csv=files.esco_skills, **esco_labels),
            "occupations": _insert(con, _INSERT_OCCUPATIONS, csv=files.esco_occupations, **esco_labels),
            "occupation_skills": _insert(con, _INSERT_OCCUPATION_SKILLS, csv=files.esco_occupation_skills),
            "onet_occupations": _insert(con, _INSERT_ONET_OCCUPATIONS, txt=files.onet_occupations),
            "onet_titles": _insert(
                con,
                _INSERT_ONET_TITLES,
                alternate_titles_txt=files.onet_alternate_titles,
                reported_titles_txt=files.onet_reported_titles,
                **TITLE_KINDS,
            ),
            "onet_tasks": _insert(con, _INSERT_ONET_TASKS, txt=files.onet_task_statements),
            "onet_technology": _insert(con, _INSERT_ONET_TECHNOLOGY, txt=files.onet_technology_skills, yes=ONET_YES),
            "esco_onet_crosswalk": _insert(con, _INSERT_CROSSWALK, csv=files.esco_onet_crosswalk),
        }
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return counts


def taxonomy_complete(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether every taxonomy table exists and has rows: a catalogue loaded before a table was added
    (O*NET task statements, say) is loaded again by `taxonomy load --if-missing` and the nightly run."""
    present = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    return set(TAXONOMY_TABLES) <= present and all(
        con.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]  # names from the constant
        for table in TAXONOMY_TABLES
    )


def prepare_taxonomy_files(downloads_dir: Path) -> TaxonomyFiles:
    """Fetch the four official files into `downloads_dir` and extract the zip members the loader reads."""
    esco_classification = fetch(ESCO_CLASSIFICATION_URL, downloads_dir)
    esco_relations = fetch(ESCO_RELATIONS_URL, downloads_dir)
    onet_database = fetch(ONET_DATABASE_URL, downloads_dir)
    crosswalk = fetch(ESCO_ONET_CROSSWALK_URL, downloads_dir)
    skills, occupations = extract_members(esco_classification, ["skills_en.csv", "occupations_en.csv"])
    (occupation_skills,) = extract_members(esco_relations, ["occupationSkillRelations.csv"])
    onet_occupations, alternate_titles, reported_titles, task_statements, technology_skills = extract_members(
        onet_database,
        [
            "Occupation Data.txt",
            "Alternate Titles.txt",
            "Sample of Reported Titles.txt",
            "Task Statements.txt",
            "Technology Skills.txt",
        ],
    )
    return TaxonomyFiles(
        esco_skills=skills,
        esco_occupations=occupations,
        esco_occupation_skills=occupation_skills,
        onet_occupations=onet_occupations,
        onet_alternate_titles=alternate_titles,
        onet_reported_titles=reported_titles,
        onet_task_statements=task_statements,
        onet_technology_skills=technology_skills,
        esco_onet_crosswalk=crosswalk,
    )


def extract_members(zip_path: Path, file_names: list[str]) -> list[Path]:
    """Extract the members called `file_names` (in whatever folder of the zip) into `<zip stem>/`.

    DuckDB cannot read inside a zip. A member already extracted from this very zip (same size, not
    older than the zip) is reused.
    """
    target_dir = zip_path.with_suffix("")
    target_dir.mkdir(exist_ok=True)
    extracted = []
    with zipfile.ZipFile(zip_path) as archive:
        members = {PurePosixPath(info.filename).name: info for info in archive.infolist() if not info.is_dir()}
        for file_name in file_names:
            info = members.get(file_name)
            if info is None:
                raise zipfile.BadZipFile(f"{zip_path.name}: no member named {file_name!r}")
            target = target_dir / file_name
            if not _is_extracted(target, info, zip_path):
                with archive.open(info) as src, atomic_write(target) as out:
                    shutil.copyfileobj(src, out)
            extracted.append(target)
    return extracted


def _is_extracted(target: Path, info: zipfile.ZipInfo, zip_path: Path) -> bool:
    if not target.is_file():
        return False
    stat = target.stat()
    return stat.st_size == info.file_size and stat.st_mtime >= zip_path.stat().st_mtime


def _insert(con: duckdb.DuckDBPyConnection, sql: str, **parameters: Path | str) -> int:
    """Run one INSERT ... SELECT with named parameters; return the number of rows it inserted."""
    row = con.execute(sql, {name: str(value) for name, value in parameters.items()}).fetchone()
    return int(row[0]) if row else 0


# ESCO CSVs: comma-separated, double-quoted cells that may span lines, quotes doubled inside.
# Every column is read as text: values are kept as published (no sniffed dates or numbers).
_INSERT_SKILLS = """
INSERT INTO skills (uri, label, alt_labels, skill_type, reuse_level, description)
SELECT
    conceptUri,
    trim(preferredLabel, $label_padding),
    coalesce(
        list_filter(
            list_transform(string_split(altLabels, $alt_label_separator), label -> trim(label, $label_padding)),
            label -> label <> ''
        ),
        []
    ),
    skillType, reuseLevel, description
FROM read_csv($csv, header = true, delim = ',', quote = '"', escape = '"', all_varchar = true)
"""

_INSERT_OCCUPATIONS = """
INSERT INTO occupations (uri, label, alt_labels, isco_group, code, description)
SELECT
    conceptUri,
    trim(preferredLabel, $label_padding),
    coalesce(
        list_filter(
            list_transform(string_split(altLabels, $alt_label_separator), label -> trim(label, $label_padding)),
            label -> label <> ''
        ),
        []
    ),
    iscoGroup, code, description
FROM read_csv($csv, header = true, delim = ',', quote = '"', escape = '"', all_varchar = true)
"""

_INSERT_OCCUPATION_SKILLS = """
INSERT INTO occupation_skills (occupation_uri, skill_uri, relation_type, skill_type)
SELECT occupationUri, skillUri, relationType, skillType
FROM read_csv($csv, header = true, delim = ',', quote = '"', escape = '"', all_varchar = true)
"""

# O*NET text release: tab-separated, unquoted (a `"` in a title is just a character).
_INSERT_ONET_OCCUPATIONS = """
INSERT INTO onet_occupations (code, title, description)
SELECT "O*NET-SOC Code", Title, Description
FROM read_csv($txt, header = true, delim = '\t', quote = '', escape = '', all_varchar = true)
"""

# One lexicon of job titles: every alternate title, the non-empty short titles ("UX Designer") of
# the same file, and the titles workers reported. The files repeat a few (code, title) pairs, hence
# DISTINCT. Empty cells are read as NULL, so the final WHERE drops them as well as blank titles.
_INSERT_ONET_TITLES = """
INSERT INTO onet_titles (code, title, kind)
SELECT DISTINCT code, title, kind
FROM (
    SELECT "O*NET-SOC Code" AS code, trim("Alternate Title") AS title, $kind_alternate AS kind
    FROM read_csv($alternate_titles_txt, header = true, delim = '\t', quote = '', escape = '', all_varchar = true)
    UNION ALL
    SELECT "O*NET-SOC Code", trim("Short Title"), $kind_short
    FROM read_csv($alternate_titles_txt, header = true, delim = '\t', quote = '', escape = '', all_varchar = true)
    UNION ALL
    SELECT "O*NET-SOC Code", trim("Reported Job Title"), $kind_reported
    FROM read_csv($reported_titles_txt, header = true, delim = '\t', quote = '', escape = '', all_varchar = true)
)
WHERE title <> ''
"""

_INSERT_ONET_TASKS = """
INSERT INTO onet_tasks (code, task_id, task, task_type)
SELECT "O*NET-SOC Code", "Task ID", trim(Task), "Task Type"
FROM read_csv($txt, header = true, delim = '\t', quote = '', escape = '', all_varchar = true)
WHERE trim(Task) <> ''
"""

_INSERT_ONET_TECHNOLOGY = """
INSERT INTO onet_technology (code, example, commodity_title, hot, in_demand)
SELECT "O*NET-SOC Code", Example, "Commodity Title", "Hot Technology" = $yes, "In Demand" = $yes
FROM read_csv($txt, header = true, delim = '\t', quote = '', escape = '', all_varchar = true)
"""

# The crosswalk opens with 16 lines of mapping metadata (the UTF-8 BOM is on the first of them, so
# skipping them drops it too); its header is line 17.
_INSERT_CROSSWALK = """
INSERT INTO esco_onet_crosswalk (onet_code, esco_uri, match_type)
SELECT "O*NET Id", "ESCO or ISCO URI", "Type of Match"
FROM read_csv($csv, skip = 16, header = true, delim = ',', quote = '"', escape = '"', all_varchar = true)
"""
