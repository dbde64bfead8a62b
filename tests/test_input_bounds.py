"""Input sizes: a goal, the skills a user has and k are bounded once (`recommender.api`), and the
CLI holds its arguments and files to the same bounds with one-line errors. None of these needs a
catalogue: a request out of bounds is refused before anything is opened or computed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from recommender import api


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: api.recommend("x" * 1_000_000), "the goal is 1,000,000 characters long; say it in at most 300"),
        (lambda: api.recommend("data analyst", k=0), "k must be a whole number from 1 to 1,000, not 0"),
        (lambda: api.recommend("data analyst", k=-5), "k must be a whole number from 1 to 1,000, not -5"),
        (lambda: api.recommend("data analyst", k=1_000_000), "not 1000000"),
        (lambda: api.recommend("data analyst", have=("sql",) * 10_000), "10,000 skills you have were given"),
        (lambda: api.recommend("data analyst", have=("s" * 400,)), "a skill you have is 400 characters long"),
        (lambda: api.skill_gap("data analyst", k=0), "k must be"),
        (lambda: api.resolve_goal("y" * 301), "the goal is 301 characters long"),
        (lambda: api.extract_skills("z" * 100_000), "the text is 100,000 characters long; give at most 5,000"),
        (lambda: api.compare_providers("data analyst", pool=10**6), "k must be"),
    ],
)
def test_the_api_refuses_a_request_out_of_bounds_at_once(call, message, skillstack_home: Path):
    with pytest.raises(api.InvalidRequestError) as refused:
        call()  # the home is empty: a request that got past the check would say "no catalogue"
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_bounds_admit_what_a_user_types():
    api.check_request("I want to become a data analyst", k=10, have=("SQL", "Excel"))
    api.check_request("g" * api.MAX_GOAL_CHARS, k=api.MAX_K, have=("s",) * api.MAX_HAVE)
    api.check_request(k=api.MIN_K)


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SKILLSTACK_HOME": str(tmp_path / "home")}
    return subprocess.run(
        [sys.executable, "-m", "skillstack.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow  # eleven processes, each importing torch
def test_the_cli_refuses_arguments_and_files_out_of_bounds_in_one_line(tmp_path: Path):
    latin1 = tmp_path / "goals-latin1.txt"
    latin1.write_bytes("data analyst\ningénieur\n".encode("latin-1"))
    big = tmp_path / "big.txt"
    big.write_text("data analyst\n" * 100_000)
    long_line = tmp_path / "long.txt"
    long_line.write_text("data analyst\n" + "w" * 400 + "\n")
    cases = [
        (("recommend", "data analyst", "--k", "0"), "argument --k: a whole number from 1 to 1,000, not 0"),
        (("recommend", "data analyst", "--k", "-3"), "argument --k: a whole number from 1 to 1,000, not -3"),
        (("recommend", "data analyst", "--k", "1000000"), "not 1000000"),
        (("goals", "resolve", "welder", "--k", "0"), "argument --k"),
        (("skills", "extract", "SQL", "--k", "5000"), "argument --k"),
        (("recommend", "g" * 100_000), "a goal of 100,000 characters; at most 300"),
        (("recommend", "data analyst", *("--have", "sql") * 31), "argument --have: at most 30 times"),
        (("recommend", "--goals-file", "/dev/zero", "--json"), "/dev/zero is larger than 1,000,000 bytes"),
        (("recommend", "--goals-file", str(big)), "is larger than 1,000,000 bytes"),
        (("goals", "resolve", "--file", str(latin1)), "goals-latin1.txt is not UTF-8 text (byte 0xe9 at offset 16)"),
        (("recommend", "--goals-file", str(long_line)), "long.txt line 2: a goal of 400 characters; at most 300"),
    ]
    for args, message in cases:
        result = _cli(tmp_path, *args)  # `/dev/zero` read without a bound would end in the timeout
        assert result.returncode == 2, (args[:3], result.stderr[-2000:])
        assert message in result.stderr, (args[:3], result.stderr[-2000:])
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr[-2000:]
        assert "Traceback" not in result.stderr
        assert result.stdout == ""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "query", "message"),
    [
        # Streamlit itself ignores a query string over 524,288 characters or 1,000 parameters.
        ("find", {"goal": "x" * 100_000}, "the goal is 100,000 characters long; say it in at most 300"),
        ("gap", {"goal": "data analyst", "have": [f"skill {i}" for i in range(40)]}, "40 skills you have were given"),
        ("compare", {"goal": "y" * 5_000}, "the goal is 5,000 characters long"),
    ],
)
def test_the_dashboard_answers_url_parameters_out_of_bounds_with_one_line(catalog_home, page, query, message):
    from tests.test_dashboard import run_page

    at = run_page(page, **query)
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning if message in w.value], [w.value for w in at.warning]


def test_ctrl_c_inside_a_catalogue_query_ends_the_command_quietly_with_130(monkeypatch, capsys):
    from skillstack import cli

    def interrupted_query(args):
        # What DuckDB raises when Ctrl-C arrives during a query: "RuntimeError: Query interrupted",
        # caused by the KeyboardInterrupt (seen on `skillstack recommend` interrupted while reading).
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise RuntimeError("Query interrupted") from interrupt

    monkeypatch.setattr(cli, "cmd_recommend", interrupted_query)
    monkeypatch.setenv("SKILLSTACK_ENCODER_WORKER", "off")
    assert cli.main(["recommend", "data analyst"]) == 130
    assert capsys.readouterr().err == ""
