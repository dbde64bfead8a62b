"""`watches.json`: a watched goal holds its `Filters`; a file written before that (version 1, the
filters as fields of the watch) is read as it was meant and written in the new form at the next change."""

from __future__ import annotations

import json
from pathlib import Path

from recommender import api, watch

# What `skillstack watch add` wrote before version 2 (two watches added through `api.watch_add`).
VERSION_1 = {
    "version": 1,
    "watches": [
        {
            "id": "data-analyst-7188e067",
            "goal": "Data analyst",
            "top": 5,
            "occupation_uri": None,
            "free_only": True,
            "with_certificate": False,
            "levels": ["Beginner"],
            "languages": ["en"],
            "max_hours": 40.0,
            "max_price": None,
            "providers": ["Coursera", "edX"],
            "created_at": "2026-12-05T13:09:10Z",
        },
        {
            "id": "welder-b525f90e",
            "goal": "welder",
            "top": 10,
            "occupation_uri": None,
            "free_only": False,
            "with_certificate": False,
            "levels": [],
            "languages": [],
            "max_hours": None,
            "max_price": None,
            "providers": [],
            "created_at": "2026-12-05T13:09:10Z",
        },
    ],
}
ANALYST_FILTERS = api.Filters(
    free_only=True, levels=("Beginner",), languages=("en",), max_hours=40.0, providers=("Coursera", "edX")
)


def stored(home: Path) -> dict:
    return json.loads((home / "watches.json").read_text(encoding="utf-8"))


def test_a_version_1_file_is_read_with_its_filters_and_written_as_version_2(skillstack_home: Path):
    (skillstack_home / "watches.json").write_text(json.dumps(VERSION_1), encoding="utf-8")

    analyst, welder = api.watches()
    assert (analyst.id, analyst.goal, analyst.top, analyst.course_filters) == (
        "data-analyst-7188e067",
        "Data analyst",
        5,
        ANALYST_FILTERS,
    )
    assert analyst.describe() == "top 5; free; level Beginner; language en; provider Coursera, edX; ≤ 40 h"
    assert welder.course_filters == api.Filters()

    # The same goal and filters are the same watch, under the id the old file gave it: nothing is written.
    assert api.watch_add("Data analyst", top=5, filters=ANALYST_FILTERS) == analyst
    assert stored(skillstack_home) == VERSION_1

    added = api.watch_add("nurse", filters=api.Filters(max_price=0.0))
    written = stored(skillstack_home)
    assert written["version"] == watch.WATCHES_VERSION == 2
    analyst_filters, welder_filters = ({k: w[k] for k in watch._FILTER_FIELDS} for w in VERSION_1["watches"])
    assert [w["filters"] for w in written["watches"]] == [
        analyst_filters,
        welder_filters,
        {**welder_filters, "max_price": 0.0},
    ]
    assert not any("free_only" in w for w in written["watches"])
    assert api.watches() == (analyst, welder, added)

    assert api.watch_remove(welder.id)
    assert api.watches() == (analyst, added)
    assert stored(skillstack_home)["version"] == 2
