"""The encoder worker (core.encoder_worker) makes a one-goal CLI answer come sooner, never different."""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import embed
from core.encoder_worker import EncoderWorker, serve

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_the_worker_encodes_the_same_bits_as_this_process():
    worker = EncoderWorker.start()
    assert worker is not None
    try:
        variant = embed.model_variant()
        for texts in (["I want to become a data analyst"], ["welder", "ayudante de cocina", "UX designer"]):
            assert np.array_equal(worker.encode(texts, variant), embed.encode(texts, variant=variant))
    finally:
        worker.stop()


def test_a_worker_that_died_leaves_the_encoding_to_this_process():
    worker = EncoderWorker.start()
    assert worker is not None
    worker.stop()
    assert worker.encode(["zoo keeper"], embed.model_variant()) is None
    embed.encode_queries_in(worker)
    try:
        text = "zoo keeper who wants to work with reptiles"
        assert np.array_equal(embed.encode_queries([text]), embed.encode([text]))
    finally:
        embed.encode_queries_in(None)


def test_a_request_it_cannot_read_is_answered_with_nothing_and_the_next_one_is_answered():
    requests = io.BytesIO(b'{"no texts": 1}\n' + json.dumps({"variant": "fp32", "texts": ["welder"]}).encode() + b"\n")
    answers = io.BytesIO()
    serve(requests, answers)
    data = answers.getvalue()
    (first,) = struct.unpack(">I", data[:4])
    (second,) = struct.unpack(">I", data[4:8])
    assert (first, second, len(data)) == (0, embed.DIMENSIONS * 4, 8 + embed.DIMENSIONS * 4)
    vector = np.frombuffer(data[8:], dtype=np.float32)
    assert np.array_equal(vector, embed.encode(["welder"], variant="fp32")[0])


@pytest.mark.slow
def test_one_goal_from_the_shell_prints_the_same_answer_with_and_without_the_worker(built_home: Path, tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy2(built_home / "catalog.duckdb", home / "catalog.duckdb")

    def answer(goal: str, **env: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "skillstack.cli", "recommend", goal, "--json"],
            cwd=REPO_ROOT, capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "SKILLSTACK_HOME": str(home),
                 "SKILLSTACK_GOAL_MEMO": "off", **env},
        )  # fmt: skip
        return done.stdout

    for goal in ("I want to become a data analyst", "protect companies from hackers"):
        with_worker = answer(goal)
        assert json.loads(with_worker)["results"]
        assert with_worker == answer(goal, SKILLSTACK_ENCODER_WORKER="off")
