"""The model in a process of its own, started ahead by a command that answers one goal.

A `skillstack recommend GOAL` of a goal seen for the first time spends about 1.1 s importing torch
and loading the model, and as long again importing the recommender and opening the catalogue; both
hold Python's lock, so threads cannot overlap them, but two processes on two cores can. The CLI
starts this worker as its first step (`start`); `core.embed.encode_queries` then asks it for the
vectors it would have computed, and the command never imports torch. A goal the goal memo holds
starts no worker (`recommender.goal_memo.holds_any`); a worker never asked is stopped with the
command.

The vectors are the same bits as the command's own: the worker runs `core.embed.encode` on the same
texts in the same variant (one thread, as for any query). Whatever goes wrong with the worker (it
cannot start, dies or says something unexpected) makes `encode` return None, and the caller
encodes in its own process, as it would without a worker.

Protocol on the worker's standard input and output: a request is one JSON line,
`{"variant": "bf16", "texts": [...]}`; the answer is 4 bytes (big-endian length n) and n bytes of
float32 vectors, texts × `embed.DIMENSIONS`, or a length of 0 when the worker could not encode them.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import struct
import subprocess
import sys
import threading

import numpy as np

log = logging.getLogger(__name__)

_LENGTH = struct.Struct(">I")
# Off for tests and benchmarks that must measure or debug the command in one process.
SWITCH = "SKILLSTACK_ENCODER_WORKER"


class EncoderWorker:
    def __init__(self, process: subprocess.Popen) -> None:
        self._process = process
        self._lock = threading.Lock()
        self._failed = False

    @classmethod
    def start(cls) -> EncoderWorker | None:
        """A worker loading the model from now on; None when it is switched off or cannot start."""
        if os.environ.get(SWITCH, "on") == "off":
            return None
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "core.encoder_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            log.info("encoding in this process: the encoder worker did not start (%s)", exc)
            return None
        worker = cls(process)
        atexit.register(worker.stop)
        return worker

    def encode(self, texts: list[str], variant: str) -> np.ndarray | None:
        """The vectors of `texts` (texts × 384, float32), or None once the worker has failed."""
        from core.embed import DIMENSIONS

        with self._lock:
            if self._failed:
                return None
            try:
                request = json.dumps({"variant": variant, "texts": texts}, ensure_ascii=False) + "\n"
                self._process.stdin.write(request.encode("utf-8"))
                self._process.stdin.flush()
                (length,) = _LENGTH.unpack(_read_exactly(self._process.stdout, _LENGTH.size))
                if length != len(texts) * DIMENSIONS * 4:
                    raise ValueError(f"{length} bytes for {len(texts)} texts")
                data = _read_exactly(self._process.stdout, length)
            except (OSError, ValueError, struct.error) as exc:
                self._failed = True
                log.info("encoding in this process: the encoder worker failed (%s)", exc)
                self.stop()
                return None
        return np.frombuffer(data, dtype=np.float32).reshape(len(texts), DIMENSIONS).copy()

    def stop(self) -> None:
        # It holds nothing worth waiting for: it may still be importing torch.
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()


def _read_exactly(stream, size: int) -> bytes:
    data = stream.read(size)
    if data is None or len(data) != size:
        raise ValueError("the worker stopped")
    return data


def serve(requests, answers) -> None:
    """Answer requests from the binary stream `requests` on the binary stream `answers` until the
    requests end."""
    from core import embed

    embed.load_model()  # before the first request: that is the point of starting early
    for line in requests:
        try:
            request = json.loads(line)
            vectors = embed.encode(list(request["texts"]), variant=request["variant"])
            data = np.ascontiguousarray(vectors, dtype=np.float32).tobytes()
        except Exception:  # a wrong request: the parent encodes in its own process
            data = b""
        answers.write(_LENGTH.pack(len(data)) + data)
        answers.flush()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
