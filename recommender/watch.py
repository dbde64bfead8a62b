"""Watched goals and their Atom feeds: what changed for a goal since the last published catalogue.

A watch is a goal with its `Filters`, kept in `SKILLSTACK_HOME/watches.json` (format version 2: the
filters as one object; a version 1 file, whose watches held the filters as fields of their own, is read
as well and written in version 2 at the next change). Each watch keeps the
state it was last compared with (its top N courses and their offers) in `feeds/<id>.json` and its feed
in `feeds/<id>.atom`. `update_feeds` runs after every nightly publish and adds an entry for each course
that entered the top N, became free or dropped in price, or left the catalogue; the feed keeps the
latest `FEED_ENTRIES` entries.

The feed is written by `feedgen` (Atom 1.0 with the elements a valid feed needs: id, title, updated,
author, links); its entries link to the dashboard's course page.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from recommender.filters import Filters
from skillstack import settings

FEED_ENTRIES = 50
DEFAULT_TOP = 10
# Where the feed's links point: the dashboard as `skillstack serve` starts it, unless the operator
# says where it is published.
DASHBOARD_URL_ENV = "SKILLSTACK_DASHBOARD_URL"
DEFAULT_DASHBOARD_URL = "http://127.0.0.1:8501"
_FREE = ("free",)
WATCHES_VERSION = 2
_FILTER_FIELDS = tuple(f.name for f in fields(Filters))


@dataclass(frozen=True)
class Watch:
    id: str
    goal: str
    top: int = DEFAULT_TOP
    occupation_uri: str | None = None
    course_filters: Filters = field(default_factory=Filters)
    created_at: str = ""

    def describe(self) -> str:
        f = self.course_filters
        parts = [f"top {self.top}"]
        parts += [name for name, on in (("free", f.free_only), ("with certificate", f.with_certificate)) if on]
        parts += [f"{k} {', '.join(v)}" for k, v in (("level", f.levels), ("language", f.languages)) if v]
        parts += [f"provider {', '.join(f.providers)}"] if f.providers else []
        parts += [f"≤ {f.max_hours:g} h"] if f.max_hours is not None else []
        parts += [f"≤ {f.max_price:g}"] if f.max_price is not None else []
        return "; ".join(parts)


@dataclass(frozen=True)
class FeedEntry:
    id: str
    kind: str  # "new" | "free" | "cheaper" | "removed" | "started"
    title: str
    summary: str
    course_id: str | None
    link: str
    updated: str


@dataclass(frozen=True)
class FeedUpdate:
    watch_id: str
    goal: str
    entries: int  # entries this update added
    path: Path


def watches_file() -> Path:
    return settings.paths().home / "watches.json"


def feeds_dir() -> Path:
    return settings.paths().home / "feeds"


def feed_path(watch_id: str) -> Path:
    return feeds_dir() / f"{watch_id}.atom"


def list_watches() -> tuple[Watch, ...]:
    path = watches_file()
    if not path.exists():
        return ()
    data = json.loads(path.read_text(encoding="utf-8"))
    return tuple(_watch(w) for w in data.get("watches", []))


def _watch(value: dict) -> Watch:
    """A watch as `watches.json` holds it: in version 2 its filters are one object; in version 1 they
    were fields of the watch itself."""
    own = {k: v for k, v in value.items() if k in Watch.__dataclass_fields__ and k != "course_filters"}
    return Watch(**own, course_filters=_filters(value.get("filters", value)))


def _filters(values: dict) -> Filters:
    """`Filters` from their values as JSON or a caller gives them (lists kept as tuples)."""
    return Filters(
        **{k: tuple(v) if isinstance(v, list | tuple) else v for k, v in values.items() if k in _FILTER_FIELDS}
    )


def _watch_json(watch: Watch) -> dict:
    value = asdict(watch)
    value["filters"] = value.pop("course_filters")
    return value


def _write_watches(watches: tuple[Watch, ...] | list[Watch]) -> None:
    _write_json(watches_file(), {"version": WATCHES_VERSION, "watches": [_watch_json(w) for w in watches]})


def add_watch(
    goal: str, *, top: int = DEFAULT_TOP, occupation_uri: str | None = None, filters: Filters | None = None
) -> Watch:
    """Keep a goal under watch (the same goal and filters twice is one watch)."""
    goal = " ".join(goal.split())
    if not goal:
        raise ValueError("the goal is empty")
    if top < 1:
        raise ValueError(f"the top must be at least 1, not {top}")
    filters = _filters(asdict(filters)) if filters else Filters()
    key = json.dumps([goal.lower(), top, occupation_uri, sorted(asdict(filters).items())], default=list)
    slug = re.sub(r"[^a-z0-9]+", "-", goal.lower()).strip("-")[:40] or "goal"
    watch = Watch(
        id=f"{slug}-{hashlib.sha256(key.encode()).hexdigest()[:8]}",
        goal=goal,
        top=top,
        occupation_uri=occupation_uri,
        course_filters=filters,
        created_at=_now(),
    )
    existing = list_watches()
    if any(w.id == watch.id for w in existing):
        return next(w for w in existing if w.id == watch.id)
    _write_watches((*existing, watch))
    return watch


def remove_watch(watch_id: str) -> bool:
    """Stop watching; its feed and state go too. False when there is no such watch."""
    existing = list_watches()
    kept = [w for w in existing if w.id != watch_id]
    if len(kept) == len(existing):
        return False
    _write_watches(kept)
    for path in (feed_path(watch_id), _state_path(watch_id)):
        path.unlink(missing_ok=True)
    return True


def feed_entries(watch_id: str) -> tuple[FeedEntry, ...]:
    """The watch's feed entries, newest first (what the Atom file holds)."""
    state = _read_state(watch_id)
    return tuple(FeedEntry(**e) for e in state.get("entries", [])) if state else ()


# ---------------------------------------------------------------- comparing a watch with the catalogue


def update_feed(
    watch: Watch, top: list[dict], active: Callable[[str], bool], catalogue: str | None, *, now: str | None = None
) -> FeedUpdate:
    """Compare the watch's new top courses (dicts of course_id, title, provider, url, price, currency,
    access_model) with the ones it last saw, add the entries and write its feed.

    `active(course_id)` says whether the published catalogue still holds a course. The first update
    of a watch only records its top (one "started" entry), so the feed's first news is real news.
    """
    now = now or _now()
    state = _read_state(watch.id)
    entries: list[dict] = []
    stamp = (catalogue or now).replace(":", "")
    if state is None:
        titles = "; ".join(f"{c['title']} ({c['provider']})" for c in top)
        entries.append(
            _entry(watch, "started", f"Watching '{watch.goal}': its top {watch.top} now", titles, None, now, stamp)
        )
    else:
        before = {c["course_id"]: c for c in state.get("top", [])}
        for course in top:
            old = before.get(course["course_id"])
            if old is None:
                entries.append(
                    _entry(
                        watch,
                        "new",
                        f"New in the top {watch.top}: {course['title']} ({course['provider']})",
                        f"{course['title']} ({course['provider']}) now fits '{watch.goal}': {_price(course)}.",
                        course["course_id"],
                        now,
                        stamp,
                    )  # fmt: skip
                )
            elif _free(course) and not _free(old):
                entries.append(
                    _entry(
                        watch,
                        "free",
                        f"Now free: {course['title']} ({course['provider']})",
                        f"Was {_price(old)}, now {_price(course)}.",
                        course["course_id"],
                        now,
                        stamp,
                    )  # fmt: skip
                )
            elif _cheaper(old, course):
                entries.append(
                    _entry(
                        watch,
                        "cheaper",
                        f"Price dropped: {course['title']} ({course['provider']})",
                        f"Was {_price(old)}, now {_price(course)}.",
                        course["course_id"],
                        now,
                        stamp,
                    )  # fmt: skip
                )
        listed = {c["course_id"] for c in top}
        for course_id, old in before.items():
            if course_id not in listed and not active(course_id):
                entries.append(
                    _entry(
                        watch,
                        "removed",
                        f"Left the catalogue: {old['title']} ({old['provider']})",
                        f"{old['title']} is no longer listed by any source.",
                        course_id,
                        now,
                        stamp,
                    )  # fmt: skip
                )
    kept = (entries + (state or {}).get("entries", []))[:FEED_ENTRIES]
    _write_json(
        _state_path(watch.id), {"updated": now, "catalogue": catalogue, "top": top, "entries": kept, "goal": watch.goal}
    )
    _write_feed(watch, kept, now)
    return FeedUpdate(watch.id, watch.goal, len(entries), feed_path(watch.id))


def _entry(watch: Watch, kind: str, title: str, summary: str, course_id: str | None, now: str, stamp: str) -> dict:
    return {
        "id": f"tag:skillstack,2026:{watch.id}/{stamp}/{kind}/{course_id or 'top'}",
        "kind": kind,
        "title": title,
        "summary": summary,
        "course_id": course_id,
        "link": course_page_url(course_id) if course_id else dashboard_url(),
        "updated": now,
    }


def dashboard_url() -> str:
    return os.environ.get(DASHBOARD_URL_ENV, DEFAULT_DASHBOARD_URL).rstrip("/")


def course_page_url(course_id: str) -> str:
    """The dashboard's course page for a course (its `course` query parameter)."""
    return f"{dashboard_url()}/course?{urlencode({'course': course_id})}"


def _free(course: dict) -> bool:
    return course.get("access_model") in _FREE or (
        course.get("price") == 0 and course.get("access_model") in (None, "paid")
    )


def _cheaper(old: dict, new: dict) -> bool:
    return (
        old.get("price") is not None
        and new.get("price") is not None
        and old.get("currency") == new.get("currency")
        and new["price"] < old["price"]
    )


def _price(course: dict) -> str:
    if _free(course):
        return "free"
    if course.get("price") is None:
        return "price not stated"
    return f"{course['price']:g} {course.get('currency') or ''}".strip()


def _write_feed(watch: Watch, entries: list[dict], now: str) -> None:
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(f"tag:skillstack,2026:{watch.id}")
    feed.title(f"skillstack: {watch.goal}")
    feed.subtitle(f"Courses for '{watch.goal}' ({watch.describe()}): new in the top, cheaper, free or gone.")
    feed.author({"name": "skillstack"})
    feed.link(href=f"{dashboard_url()}/watch?{urlencode({'watch': watch.id})}", rel="alternate")
    feed.link(href=feed_path(watch.id).resolve().as_uri(), rel="self")
    feed.updated(_datetime(now))
    # feedgen writes entries in the order they were added when asked to append: newest first, as kept.
    for e in entries:
        entry = feed.add_entry(order="append")
        entry.id(e["id"])
        entry.title(e["title"])
        entry.summary(e["summary"])
        entry.link(href=e["link"], rel="alternate")
        entry.updated(_datetime(e["updated"]))
    path = feed_path(watch.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_bytes(path, feed.atom_str(pretty=True))


def _state_path(watch_id: str) -> Path:
    return feeds_dir() / f"{watch_id}.json"


def _read_state(watch_id: str) -> dict | None:
    path = _state_path(watch_id)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _write_json(path: Path, value: object) -> None:
    _write_bytes(path, (json.dumps(value, indent=2, ensure_ascii=False, default=list) + "\n").encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    """Write beside and rename: a reader (the dashboard, a feed reader) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _datetime(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
