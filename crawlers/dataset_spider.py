"""Base spider for sources published as one CSV file, one course per row."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import quote_plus

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawlers.items import Course

# Fields the item types as numbers when the cell holds a plain number; anything else ("5.3k") is
# kept as the text the source gave.
NUMBER_FIELDS: dict[str, type] = {
    "rating": float,
    "rating_count": int,
    "hours": float,
    "enrollments": int,
    "price": float,
}
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+$")


# Symbols that tell titles apart ("C#" and "C++ Class Development") are spelled out before slugging.
_SPELLED_SYMBOLS = str.maketrans({"+": " plus ", "#": " sharp ", "&": " and "})


def slugify(text: str) -> str:
    """Lower-case words joined by `-`; accents dropped, other scripts kept ("Università" → "universita")."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPELLED_SYMBOLS))
    without_marks = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[\W_]+", "-", without_marks.casefold()).strip("-")


def to_number(text: str, kind: type) -> int | float | str:
    """`"11000"` → 11000, `"124,980"` → 124980, `"4.6"` → 4.6; the text itself when it is not a plain number."""
    cleaned = text.replace(",", "") if _THOUSANDS.match(text) else text
    try:
        number = float(cleaned)
    except ValueError:
        return text
    if kind is int:
        return int(number) if number.is_integer() else text
    return number


class CsvDatasetSpider(scrapy.Spider):
    """Turn every row of a dataset CSV into a `Course`; concrete spiders only declare.

    Declarations:

    - `start_urls`: the CSV's URL.
    - `provider`: the platform (Coursera, edX...); applied by the defaults pipeline to items whose
      row did not give one.
    - `column_map`: `{Course field: CSV column}`. Mapped cells are stripped; empty cells and the
      markers in `null_values` leave the field unset. `rating`, `rating_count`, `hours`,
      `enrollments` and `price` become numbers when the cell is a plain number ("124,980"
      included); other text ("5.3k", "FREE-Add a Verified Certificate for $49 USD") stays as is.
    - `list_fields`: Course fields whose column holds a comma-separated list (skills, subjects).
    - `ref_fields`: when no column is mapped to `provider_ref`, the reference is built from the
      slugs of these item fields joined by `--` (default: the name). It must be stable across
      crawls and unique within the source, so pick fields that tell same-named courses apart.

    Every column not in `column_map` is kept in `extras` under its header (a blank header becomes
    `column_<position>`).

    One optional hook:

    - `parse_row(self, row, item) -> Course | None`: called after the declarations are applied,
      with the raw row (`{header: cell}`); fix or add fields, or return None to skip the row
      (counted as `skillstack/rows/skipped`).

    Rows are read with the csv module. A row whose cell count differs from the header's, or that
    the csv module cannot parse, is skipped and counted (`skillstack/rows/malformed`). Rows that
    repeat a `provider_ref` are merged into the first one — list fields gain the new values,
    everything else keeps the first row's — and counted (`skillstack/rows/duplicate`).

    Spider argument `limit`: yield at most that many items. A dataset that cannot be downloaded
    (404, network error) is logged as an error and closes the spider with reason
    `source_unavailable`.
    """

    provider: ClassVar[str | None] = None
    column_map: ClassVar[dict[str, str]] = {}
    list_fields: ClassVar[tuple[str, ...]] = ()
    ref_fields: ClassVar[tuple[str, ...]] = ("name",)
    null_values: ClassVar[frozenset[str]] = frozenset({"", "NA", "N/A", "n/a", "nan", "NaN", "None", "null"})

    def __init__(self, *args: Any, limit: int | str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.limit = int(limit) if limit not in (None, "") else None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse, errback=self.source_unavailable)

    def source_unavailable(self, failure: Failure) -> None:
        response = getattr(failure.value, "response", None)
        why = f"HTTP {response.status}" if response is not None else repr(failure.value)
        self.logger.error("dataset %s is unavailable: %s", failure.request.url, why)
        raise CloseSpider("source_unavailable")

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Course]:
        text = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8-sig")
        courses: dict[str, Course] = {}
        unreferenced: list[Course] = []
        for row in self._read_rows(text, response.url):
            item = self.parse_row(row, self._item_from_row(row))
            if item is None:
                self._count("skillstack/rows/skipped")
                continue
            if not item.get("provider_ref"):
                item["provider_ref"] = self._ref_from_fields(item)
            ref = item.get("provider_ref")
            if not ref:
                unreferenced.append(item)  # dropped and counted by the validation pipeline
            elif ref in courses:
                self._count("skillstack/rows/duplicate")
                self._merge_lists(courses[ref], item)
            else:
                courses[ref] = item
        for count, item in enumerate([*courses.values(), *unreferenced]):
            if self.limit is not None and count >= self.limit:
                return
            yield item

    def parse_row(self, row: dict[str, str], item: Course) -> Course | None:
        return item

    def _read_rows(self, text: str, url: str) -> Iterator[dict[str, str]]:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if header is None:
            self.logger.error("dataset %s is empty", url)
            return
        header = [name.strip() or f"column_{position}" for position, name in enumerate(header, start=1)]
        for column in set(self.column_map.values()) - set(header):
            self.logger.error("column %r is not in the header of %s: %s", column, url, header)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self._skip_malformed(url, reader.line_num, str(exc))
                continue
            if not cells:
                continue
            self._count("skillstack/rows/read")
            if len(cells) != len(header):
                self._skip_malformed(url, reader.line_num, f"{len(cells)} cells, the header has {len(header)}")
                continue
            yield dict(zip(header, cells, strict=True))

    def _skip_malformed(self, url: str, line: int, why: str) -> None:
        self._count("skillstack/rows/malformed")
        self.logger.warning("skipping malformed row ending on line %d of %s: %s", line, url, why)

    def _item_from_row(self, row: dict[str, str]) -> Course:
        item = Course()
        for field, column in self.column_map.items():
            value = self._cell(row, column)
            if value is None:
                continue
            if field in self.list_fields:
                values = [part.strip() for part in value.split(",") if part.strip() not in self.null_values]
                if values:
                    item[field] = values
            elif field in NUMBER_FIELDS:
                item[field] = to_number(value, NUMBER_FIELDS[field])
            else:
                item[field] = value
        mapped = set(self.column_map.values())
        extras = {column: value for column, value in row.items() if column not in mapped and self._cell(row, column)}
        if extras:
            item["extras"] = {column: value.strip() for column, value in extras.items()}
        return item

    def _cell(self, row: dict[str, str], column: str) -> str | None:
        value = row.get(column, "").strip()
        return None if value in self.null_values else value

    def _ref_from_fields(self, item: Course) -> str | None:
        parts = [slugify(str(item.get(field) or "")) for field in self.ref_fields]
        return "--".join(parts) if parts[0] else None

    def _merge_lists(self, first: Course, repeat: Course) -> None:
        for field in self.list_fields:
            extra_values = [value for value in repeat.get(field, []) if value not in first.get(field, [])]
            if extra_values:
                first[field] = [*first.get(field, []), *extra_values]

    def _count(self, stat: str) -> None:
        self.crawler.stats.inc_value(stat)


class CourseraDatasetSpider(CsvDatasetSpider):
    """Coursera listings from a dataset without course URLs or ids.

    The `provider_ref` is the slug of title, institution and product type: titles repeat across
    institutions ("Financial Markets": Yale and Napoli) and products ("Supply Chain Excellence":
    a course and a specialization). The `url` is Coursera's search for the exact title, the only
    stable URL the data allows; guessing a `/learn/<slug>` page would yield dead links.
    """

    provider = "Coursera"
    ref_fields = ("name", "institution", "credential")

    def parse_row(self, row: dict[str, str], item: Course) -> Course | None:
        if item.get("name"):
            item["url"] = coursera_search_url(item["name"])
        return item


def coursera_search_url(title: str) -> str:
    return f"https://www.coursera.org/search?query={quote_plus(title)}"
