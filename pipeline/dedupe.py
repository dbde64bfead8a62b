"""De-duplication: the records of one course, from several sources, grouped into one catalogue course.

The same course is listed by its provider's API, its pages, the public datasets and listing sites
(Class Central); the two Coursera datasets share about 390 titles. Records are grouped by

- the **provider** (never across providers: "Python for Everybody" on Coursera and on edX are two
  courses), and then
- the **course page** when a record's URL is one already seen for that provider: the same page is
  one course whatever the titles and institutions say (Skillshare's datasets of 2022 and 2023–24
  name four classes' instructors differently: "Sprouht" / "William Rossy"). URLs are compared
  through `page_key`: scheme, "www.", case, a trailing slash and the fragment do not count, nor
  the slug before a numeric id ending the path (Skillshare's class 1888082231 is
  `.../Procreate-Animation-Make-Fun-GIFs-Videos/1888082231` in 2022 and `...-Videos-Original/
  1888082231` in 2023–24); a URL with a query is a search, not a page, and never matches (the
  Coursera datasets' search URLs name a title, not a course). Pages with different numeric ids
  are different courses whatever else agrees (Rich Armstrong's remake of that class, 2144866209,
  has the 2022 title, his name and 3 h instead of 1.2 h). Otherwise by
- the **title**, compared through `title_key`: case, accents' forms, punctuation, "&"/"and", a few
  stop words and plural endings do not count; numbers and every other word do, so "Excel Skills
  for Business: Intermediate I" and "... Intermediate II" stay apart, and
- the **institution** when both records name one, compared through `institution_key`
  ("University of Illinois at Urbana-Champaign" = "University of Illinois Urbana-Champaign",
  "deeplearning.ai" = "DeepLearning.AI"); one name's words within the other's also match, since
  datasets of different years name a college or its university ("Goldsmiths, University of
  London" / "University of London", "Berklee College of Music" / "Berklee"), while "London Business
  School" and "University of London" do not. A record that names none (Class Central's), or a
  placeholder ("Multiple educators"), may join a group that does.

A group holds at most one record per source: two records of one source are two courses by that
source's own ids. When a record could join several groups (an institution-less "Business Analytics"
while Penn, Illinois and BBVA each teach one), a tie-breaker decides: a title written exactly the
same (case and punctuation too), else the embedding of its text closest to a group's by a clear
margin; when neither decides, the record stays a course of its own and is counted as `ambiguous`.

Fuzzy title scores do not merge on their own: on the real datasets, every cross-source pair of one
provider with a RapidFuzz ratio of 90 or more and unequal keys was a different course
(Intermediate I/II, "More Introduction to Financial Accounting", "... 日本語版" language versions).

A merged course takes each field from the highest-priority record that has it (`SOURCE_PRIORITY`:
the provider's own API, then its pages, then datasets, newest first, then listing sites); the
fields that only mean something together (price, currency, access model and price text; hours and
duration text; credential and its raw term; rating and its count) come from one record. Declared
skills are the union of all records'. Its id is the id it had in the previous catalogue when one of
its records was in a course there, else its best record's id, so a course keeps its id, its offer
history and its links when a better source starts listing it. When a previous course splits (its
records no longer match), the id stays with the part holding the record it was named after and
the other parts take ids of their own (`course_ids`): two courses never share one.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np

# Part of `build.RECORDS_KEY`: a previous catalogue's records are carried over only while it is the
# same. Raise it when a change here would group, order or merge any records differently.
DEDUPE_VERSION = 1

# Lower ranks win. A source not listed ranks after the datasets and before the listing sites.
SOURCE_PRIORITY: dict[str, int] = {
    # the provider's own API or feed
    **dict.fromkeys(
        (
            "coursera_api",
            "edx_catalog",
            "mitxonline",
            "mitxpro",
            "futurelearn",
            "udacity",
            "mslearn",
            "mit_sloan",
            "khan_academy",
            "udemy_api",
            "mit_ocw",
            "iversity",
        ),
        0,
    ),  # fmt: skip
    # the provider's own pages
    **dict.fromkeys(("coursera_pages", "udemy_pages", "edx_rss", "linkedin_learning", "skillshare"), 10),
    # public datasets, the newest first (Alison's is undated; it lists courses on ISO/IEC 42001:2023)
    **dict.fromkeys(("coursera_skills_2024", "skillshare_2024", "alison"), 20),
    **dict.fromkeys(("skillshare_2022", "linkedin_learning_2021"), 21),
    **dict.fromkeys(("coursera_kaggle_2020", "edx_kaggle_2020", "futurelearn_2020"), 22),
    "udemy_kaggle_2017": 23,
    # listing sites: they describe other providers' courses
    "classcentral_data_science": 40,
    "jsonld_generic": 40,
}
UNLISTED_SOURCE_PRIORITY = 30
# The tie-breaker's embedding test: the closest group must be this close, and ahead of the next by this.
TIE_MIN_COSINE = 0.8
TIE_MIN_MARGIN = 0.05

# Fields chosen together from one record, by the first field of each tuple being present.
FIELD_UNITS: tuple[tuple[str, ...], ...] = (
    ("price", "currency", "access_model", "certificate_price", "price_raw"),
    ("hours", "duration_raw"),
    ("credential", "credential_raw"),
    ("rating", "rating_count"),
)
SINGLE_FIELDS = ("description", "in_language", "level", "course_mode", "institution")
_TITLE_STOP_WORDS = frozenset({"a", "an", "the", "and", "of", "to", "for", "in", "with", "on"})
_INSTITUTION_STOP_WORDS = frozenset({"the", "of", "at", "and", "in", "for", "de", "la"})
# Institution values that name nobody in particular.
_PLACEHOLDER_INSTITUTIONS = frozenset({frozenset({"multiple", "educators"}), frozenset({"various"})})
_WORD = re.compile(r"\w+")


def source_priority(source: str) -> int:
    return SOURCE_PRIORITY.get(source, UNLISTED_SOURCE_PRIORITY)


_PAGE_ID = re.compile(r"/(\d+)$")


def page_key(url: str | None) -> str | None:
    """A course page's URL as compared (see the module docstring); None when it names no page."""
    if not url:
        return None
    parts = urlsplit(str(url).strip())
    path = parts.path.rstrip("/")
    if parts.query or not parts.netloc or not path:
        return None
    host = parts.netloc.casefold().removeprefix("www.")
    if match := _PAGE_ID.search(path):
        return f"{host}/{match.group(1)}"  # the id names the page; the slug before it may change
    return f"{host}{path}".casefold()


def page_id(url: str | None) -> str | None:
    """The `page_key` of a page named by the numeric id ending its path (Skillshare's
    `/classes/<slug>/1888082231` → "skillshare.com/1888082231"); None for other URLs."""
    page = page_key(url)
    return page if page and _PAGE_ID.search(page) else None


def _words(text: str | None) -> list[str]:
    folded = unicodedata.normalize("NFKC", text or "").casefold().replace("&", " and ")
    return _WORD.findall(folded)


def title_key(title: str | None) -> tuple[str, ...]:
    """A title as compared: folded, punctuation and a few stop words dropped, plural endings off."""
    key = []
    for word in _words(title):
        if word in _TITLE_STOP_WORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss") and word.isalpha():
            word = word[:-1]
        key.append(word)
    return tuple(key)


@functools.lru_cache(maxsize=1 << 16)  # a few thousand institutions name every record
def institution_key(institution: str | None) -> frozenset[str]:
    """An institution as compared: its words, folded, without "the", "of", "at"... (empty: none named)."""
    key = frozenset(word for word in _words(institution) if word not in _INSTITUTION_STOP_WORDS)
    return frozenset() if key in _PLACEHOLDER_INSTITUTIONS else key


def same_institution(a: frozenset[str], b: frozenset[str]) -> bool:
    """Two institution keys that may name the same institution; an empty key (none named) matches any."""
    return not a or not b or a <= b or b <= a


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    if isinstance(value, str | list | tuple):
        return len(value) == 0
    if isinstance(value, np.ndarray):
        return value.size == 0
    return False


@dataclass
class Group:
    records: list[dict] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    institution: frozenset[str] = frozenset()
    page_id: str | None = None  # its records' page, when a numeric id names it

    def add(self, record: dict) -> None:
        self.records.append(record)
        self.sources.add(record["source"])
        if not self.institution:
            self.institution = institution_key(record.get("institution"))
        if self.page_id is None:
            self.page_id = page_id(record.get("url"))

    def may_take(self, record: dict, institution: frozenset[str], record_page_id: str | None) -> bool:
        """Whether `record` (of a title this group has) may join: a source not in it yet, an
        institution that may be the same, and no other page id."""
        return (
            record["source"] not in self.sources
            and same_institution(institution, self.institution)
            and (record_page_id is None or self.page_id is None or record_page_id == self.page_id)
        )

    @property
    def best(self) -> dict:
        return self.records[0]


@dataclass
class Grouping:
    groups: list[list[dict]]  # each group's records, best first
    merged_pairs: Counter = field(default_factory=Counter)  # "source_a + source_b" -> groups holding both
    ambiguous: int = 0  # records that matched several groups and stayed apart

    @property
    def merged_records(self) -> int:
        """Records folded into another record's course."""
        return sum(len(group) - 1 for group in self.groups)


VectorsFor = Callable[[Sequence[dict]], np.ndarray]  # records -> their normalised text vectors


def group_records(records: Sequence[dict], vectors_for: VectorsFor) -> Grouping:
    """Group `records` (normalised course records with `id`, `source`, `provider`, `name`,
    `institution`) into courses; `vectors_for` embeds records for the tie-breaker, only when needed."""
    ordered = sorted(records, key=_rank)
    by_key: dict[tuple, list[Group]] = {}
    by_page: dict[tuple[str, str], Group] = {}
    groups: list[Group] = []
    ties: list[tuple[dict, list[Group]]] = []
    for record in ordered:
        provider = str(record.get("provider") or "").casefold()
        page = page_key(record.get("url"))
        same_page = by_page.get((provider, page)) if page else None
        if same_page is not None and record["source"] not in same_page.sources:
            same_page.add(record)
            continue
        key = (provider, title_key(record.get("name")))
        institution = institution_key(record.get("institution"))
        record_page_id = page_id(record.get("url"))
        candidates = [group for group in by_key.get(key, ()) if group.may_take(record, institution, record_page_id)]
        placed: Group | None = None
        if len(candidates) == 1:
            placed = candidates[0]
        elif len(candidates) > 1 and institution:
            # Named institution: the group naming the same one, else one still without any.
            placed = next((g for g in candidates if g.institution == institution), candidates[0])
        elif candidates:
            ties.append((record, candidates))  # decided after every record has found its group
        else:
            placed = Group()
            by_key.setdefault(key, []).append(placed)
            groups.append(placed)
        if placed is not None:
            placed.add(record)
            if page:
                by_page.setdefault((provider, page), placed)
    grouping = Grouping(groups=[])
    _break_ties(ties, vectors_for, grouping, groups)
    for group in groups:
        # An active record before a removed one: a listing that is gone says less than one still there.
        members = sorted(group.records, key=lambda r: (r.get("status") != "active", *_rank(r)))
        grouping.groups.append(members)
        for a, b in itertools.combinations(sorted(group.sources), 2):
            grouping.merged_pairs[f"{a} + {b}"] += 1
    return grouping


def _rank(record: dict) -> tuple[int, str, str]:
    return source_priority(record["source"]), record["source"], record["id"]


def _break_ties(ties: list[tuple[dict, list[Group]]], vectors_for: VectorsFor, grouping: Grouping,
                groups: list[Group]) -> None:  # fmt: skip
    undecided: list[tuple[dict, list[Group]]] = []
    for record, candidates in ties:
        open_groups = [g for g in candidates if record["source"] not in g.sources]
        same_title = [g for g in open_groups if g.best.get("name") == record.get("name")]
        if len(same_title) == 1:
            same_title[0].add(record)
        elif len(open_groups) == 1:
            open_groups[0].add(record)
        elif open_groups:
            undecided.append((record, open_groups))
        else:
            _alone(record, groups)
    if not undecided:
        return
    records = [record for record, _ in undecided]
    bests = list({id(g): g.best for _, candidates in undecided for g in candidates}.values())
    vectors = vectors_for([*records, *bests])
    record_vectors = vectors[: len(records)]
    best_vector = {id(best): vectors[len(records) + i] for i, best in enumerate(bests)}
    for (record, candidates), vector in zip(undecided, record_vectors, strict=True):
        scores = np.array([float(best_vector[id(g.best)] @ vector) for g in candidates])
        order = np.argsort(-scores)
        top, runner_up = scores[order[0]], scores[order[1]]
        chosen = candidates[int(order[0])]
        # (a record of the same source may have joined it earlier in this loop)
        if top >= TIE_MIN_COSINE and top - runner_up >= TIE_MIN_MARGIN and record["source"] not in chosen.sources:
            chosen.add(record)
        else:
            grouping.ambiguous += 1
            _alone(record, groups)


def _alone(record: dict, groups: list[Group]) -> None:
    group = Group()
    group.add(record)
    groups.append(group)


def course_ids(groups: Sequence[Sequence[dict]], previous_course_id: dict[str, str]) -> list[str]:
    """One distinct course id per group (records best first): see the module docstring.

    In order of claim: a previous course id that is the id of one of the group's own records; any
    previous id of its records; its records' own ids, best first; and, should all of those be taken
    (a split where the other parts claimed them), its best record's id with a number.
    """
    ids: list[str | None] = [None] * len(groups)
    taken: set[str] = set()

    def claim(index: int, candidates: Iterable[str]) -> None:
        for candidate in candidates:
            if candidate not in taken:
                ids[index] = candidate
                taken.add(candidate)
                return

    earlier = [[previous_course_id[r["id"]] for r in group if r["id"] in previous_course_id] for group in groups]
    for i, group in enumerate(groups):
        own = {r["id"] for r in group}
        claim(i, [course_id for course_id in earlier[i] if course_id in own])
    for i in range(len(groups)):
        if ids[i] is None:
            claim(i, earlier[i])
    for i, group in enumerate(groups):
        if ids[i] is None:
            claim(i, [r["id"] for r in group])
    for i, group in enumerate(groups):
        if ids[i] is None:
            claim(i, (f"{group[0]['id']}~{n}" for n in itertools.count(2)))
    return ids


def merge_group(records: Sequence[dict], course_id: str | None = None) -> dict:
    """One catalogue course from a group's records (best first), under `course_id` (by default the
    best record's id); see the module docstring."""
    best = records[0]
    course = dict(best)
    if len(records) > 1:  # (a course of one record, the usual case, takes every value from it)
        _fill_from_others(course, records)
    tags: dict[str, str] = {}
    for record in records:
        for tag in record.get("skills_declared") if not _is_missing(record.get("skills_declared")) else ():
            tags.setdefault(str(tag).casefold(), tag)
    course["skills_declared"] = list(tags.values())
    active = [r for r in records if r.get("status") == "active"]
    course["status"] = "active" if active else "removed"
    course["first_seen"] = min(r["first_seen"] for r in records)
    course["last_seen"] = max(r["last_seen"] for r in records)
    course["id"] = course_id or best["id"]
    return course


def _fill_from_others(course: dict, records: Sequence[dict]) -> None:
    """Each field from the best record that states it (price, currency and access model together)."""
    best = records[0]
    for unit in FIELD_UNITS:
        source = next((r for r in records if not _is_missing(r.get(unit[0]))), best)
        for name in unit:
            course[name] = source.get(name)
    for name in SINGLE_FIELDS:
        course[name] = next((r.get(name) for r in records if not _is_missing(r.get(name))), best.get(name))
