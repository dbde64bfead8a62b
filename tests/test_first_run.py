"""`make run`'s first run: the benchmark times the Makefile's own steps, and the deferred build."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from bench.first_run import BACKGROUND, RECIPE
from tests.helpers import run_skillstack

MAKEFILE = Path(__file__).resolve().parents[1] / "Makefile"


def _recipe_commands(target: str) -> list[str]:
    """The `skillstack` command lines of a Makefile rule, `$(VAR)` references as written."""
    lines = MAKEFILE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"^{re.escape(target)}\s*:", line))
    commands = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        match = re.search(r"skillstack (.+?)(?: >>| &|$)", line)
        if match:
            commands.append(match.group(1).strip())
    return commands


def test_the_first_run_benchmark_runs_the_makefiles_own_steps():
    expected = [" ".join(arguments).replace("{limit}", "$(RUN_LIMIT)") for arguments, _ in RECIPE]
    assert _recipe_commands("run demo") == [*expected, " ".join(BACKGROUND), "serve"]
    assert expected == ["taxonomy load --if-missing", "crawl --limit $(RUN_LIMIT)", "build --defer-onet"]
    # Only the first step stops the recipe when it fails (the others are prefixed with `-`).
    assert [must_pass for _, must_pass in RECIPE] == [True, False, False]


@pytest.mark.slow
def test_a_deferred_build_is_completed_by_the_next_and_only_then(built_home: Path, tmp_path: Path):
    # The session's catalogue was built in full: nothing is deferred and `--if-deferred` builds nothing.
    result = run_skillstack(built_home, "build", "--if-deferred")
    assert result.stdout.strip() == "nothing deferred: the catalogue's taxonomy is embedded in full"
    con = duckdb.connect(str(built_home / "catalog.duckdb"), read_only=True)
    try:
        meta = dict(con.execute("SELECT key, value FROM catalog_meta").fetchall())
        onet = con.execute("SELECT count(*) FROM taxonomy_vectors WHERE origin LIKE 'onet-%'").fetchone()[0]
    finally:
        con.close()
    assert meta["deferred_surfaces"] == "0"
    assert onet > 100_000  # the O*NET titles and tasks of every crosswalked occupation
