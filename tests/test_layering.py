"""Dependencies point one way (docs/architecture.md): answering a question imports no build or crawl
code, and `core` imports none of the layers that use it. Checked in a fresh interpreter, on what
importing every module of a layer actually loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]

# Imports every module of the packages named in argv (the dashboard's entrypoint only runs the
# navigation, so it is left out), then prints the top-level names of what is loaded.
IMPORT_ALL = """
import importlib, json, pkgutil, sys
for package in sys.argv[1:]:
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        if info.name != "dashboard.app":
            importlib.import_module(info.name)
print(json.dumps(sorted(sys.modules)))
"""


def loaded_modules(*packages: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, *packages],
        cwd=REPOSITORY,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("SKILLSTACK_")}, "PYTHONPATH": str(REPOSITORY)},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def of_packages(modules: list[str], *packages: str) -> list[str]:
    return [m for m in modules if m.split(".")[0] in packages]


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        (("recommender", "dashboard"), ("pipeline", "crawlers", "scrapy")),
        (("core",), ("pipeline", "crawlers", "scrapy", "recommender", "dashboard", "evaluation")),
    ],
)
def test_a_layer_loads_none_of_the_code_it_must_not_depend_on(layer: tuple[str, ...], forbidden: tuple[str, ...]):
    modules = loaded_modules(*layer)
    assert of_packages(modules, *layer), "the layer's own modules were not imported"
    assert of_packages(modules, *forbidden) == []
