"""Base spider for sources published as one CSV file, one course per row."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import quote_plus

import openpyxl
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

# The crawl stat that carries a dataset's `data_date` into crawl_runs.stats, where the catalogue reads it.
DATA_DATE_STAT = "skillstack/data_date"


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

    - `defaults`: values for fields a row leaves unset, for what the platform states once for all
      its courses (its credential term, its access: "Skillshare membership").
    - `url_list`: the URL of a second file holding the rows' URLs, one per line in the rows' order,
      for datasets that keep them apart (LinkedIn Learning's scrape). It is requested through
      Scrapy before the dataset; each row gets its line as the column `url_list_column` (default
      `url`), which `column_map` maps like any other. A count that differs from the rows' is
      logged as an error; rows past the end of the list get no URL (and are dropped, counted, by
      the validation pipeline).

    Every column not in `column_map` is kept in `extras` under its header (a blank header becomes
    `column_<position>`; a byte-order mark before the first header is dropped).

    One optional hook:

    - `parse_row(self, row, item) -> Course | None`: called after the declarations are applied,
      with the raw row (`{header: cell}`); fix or add fields, or return None to skip the row
      (counted as `skillstack/rows/skipped`).

    Rows are read with the csv module (`read_rows`; `XlsxDatasetSpider` reads a worksheet). A row
    whose cell count differs from the header's, or that the csv module cannot parse, is skipped and
    counted (`skillstack/rows/malformed`). Rows that repeat a `provider_ref` are merged into the
    first one — list fields gain the new values, everything else keeps the first row's — and
    counted (`skillstack/rows/duplicate`). Every row read is thus a course, a repeat, a skip or a
    malformed row; one log line per file gives the four counts.

    Spider argument `limit`: yield at most that many items. A dataset that cannot be downloaded
    (404, network error) is logged as an error and closes the spider with reason
    `source_unavailable`.
    """

    provider: ClassVar[str | None] = None
    column_map: ClassVar[dict[str, str]] = {}
    list_fields: ClassVar[tuple[str, ...]] = ()
    ref_fields: ClassVar[tuple[str, ...]] = ("name",)
    null_values: ClassVar[frozenset[str]] = frozenset({"", "NA", "N/A", "n/a", "nan", "NaN", "None", "null"})
    defaults: ClassVar[dict[str, Any]] = {}
    url_list: ClassVar[str | None] = None
    url_list_column: ClassVar[str] = "url"
    # When the dataset's listings were collected ("2020", "2024-03"), as its provenance states: a dump
    # crawled today is as old as its data, not as our crawl. Kept in the run's stats (DATA_DATE_STAT).
    data_date: ClassVar[str | None] = None

    def __init__(self, *args: Any, limit: int | str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.limit = int(limit) if limit not in (None, "") else None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.data_date:
            self.crawler.stats.set_value(DATA_DATE_STAT, self.data_date)
        for url in self.start_urls:
            if self.url_list:
                yield scrapy.Request(
                    self.url_list,
                    callback=self.parse_url_list,
                    errback=self.source_unavailable,
                    cb_kwargs={"dataset_url": url},
                )
            else:
                yield scrapy.Request(url, callback=self.parse, errback=self.source_unavailable)

    def parse_url_list(self, response: Response, dataset_url: str) -> Iterator[scrapy.Request]:
        text = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8-sig")
        lines = text.splitlines()
        while lines and not lines[-1].strip():
            lines.pop()
        yield scrapy.Request(
            dataset_url,
            callback=self.parse,
            errback=self.source_unavailable,
            cb_kwargs={"row_urls": [line.strip() for line in lines]},
        )

    def source_unavailable(self, failure: Failure) -> None:
        response = getattr(failure.value, "response", None)
        why = f"HTTP {response.status}" if response is not None else repr(failure.value)
        self.logger.error("dataset %s is unavailable: %s", failure.request.url, why)
        raise CloseSpider("source_unavailable")

    def parse(self, response: Response, row_urls: list[str] | None = None, **kwargs: Any) -> Iterator[Course]:
        courses: dict[str, Course] = {}
        unreferenced: list[Course] = []
        rows = self.read_rows(response)
        if row_urls is not None:
            rows = self._with_row_urls(rows, row_urls, response.url)
        counts = Counter()
        for row in rows:
            counts["rows"] += 1
            item = self.parse_row(row, self._item_from_row(row))
            if item is None:
                counts["skipped"] += 1
                self._count("skillstack/rows/skipped")
                continue
            for field, value in self.defaults.items():
                item.setdefault(field, value)
            if not item.get("provider_ref"):
                item["provider_ref"] = self._ref_from_fields(item)
            ref = item.get("provider_ref")
            if not ref:
                unreferenced.append(item)  # dropped and counted by the validation pipeline
            elif ref in courses:
                counts["repeats"] += 1
                self._count("skillstack/rows/duplicate")
                self._merge_lists(courses[ref], item)
            else:
                courses[ref] = item
        malformed = self.crawler.stats.get_value("skillstack/rows/malformed", 0)
        self.logger.info(
            "%s: %d rows read: %d courses, %d repeating a course (merged), %d skipped; %d malformed rows in all",
            response.url,
            counts["rows"],
            len(courses) + len(unreferenced),
            counts["repeats"],
            counts["skipped"],
            malformed,
        )
        for count, item in enumerate([*courses.values(), *unreferenced]):
            if self.limit is not None and count >= self.limit:
                return
            yield item

    def parse_row(self, row: dict[str, str], item: Course) -> Course | None:
        return item

    def read_rows(self, response: Response) -> Iterator[dict[str, str]]:
        """The file's rows as `{header: cell}`, counting each (`skillstack/rows/read`)."""
        text = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8-sig")
        return self._read_rows(text, response.url)

    def read_header(self, header: list[Any], url: str) -> list[str]:
        """Header names stripped (of a byte-order mark too), blanks named by position; a mapped
        column the header lacks is logged as an error."""
        names = [
            str(name if name is not None else "").lstrip("\ufeff").strip() or f"column_{position}"
            for position, name in enumerate(header, start=1)
        ]
        given = {*names, self.url_list_column} if self.url_list else set(names)
        for column in set(self.column_map.values()) - given:
            self.logger.error("column %r is not in the header of %s: %s", column, url, names)
        return names

    def _with_row_urls(self, rows: Iterator[dict[str, str]], row_urls: list[str], url: str) -> Iterator[dict[str, str]]:
        position = -1
        for position, row in enumerate(rows):
            row[self.url_list_column] = row_urls[position] if position < len(row_urls) else ""
            yield row
        if position + 1 != len(row_urls):
            rows_read, lines = position + 1, len(row_urls)
            self.logger.error("%s has %d rows but its URL list %s has %d lines", url, rows_read, self.url_list, lines)

    def _read_rows(self, text: str, url: str) -> Iterator[dict[str, str]]:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if header is None:
            self.logger.error("dataset %s is empty", url)
            return
        header = self.read_header(header, url)
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


class XlsxDatasetSpider(CsvDatasetSpider):
    """A dataset published as an Excel workbook: the same declarations as `CsvDatasetSpider`, the
    rows read from one worksheet (`sheet`, default the first) with openpyxl.

    The first row is the header; every row is as wide as the sheet, so a column with values but no
    header is `column_<position>` as in a CSV. Cells are given as text (numbers as Excel stores
    them: 134 → "134"); empty cells are "". Rows with no value at all are passed over. A file
    openpyxl cannot open, or without the `sheet`, is logged as an error and yields nothing.
    """

    sheet: ClassVar[str | None] = None

    def read_rows(self, response: Response) -> Iterator[dict[str, str]]:
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(response.body), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            self.logger.error("dataset %s is not a readable workbook: %s", response.url, exc)
            return
        try:
            if self.sheet and self.sheet not in workbook.sheetnames:
                self.logger.error("dataset %s has no sheet %r: %s", response.url, self.sheet, workbook.sheetnames)
                return
            worksheet = workbook[self.sheet] if self.sheet else workbook.worksheets[0]
            rows = worksheet.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                self.logger.error("dataset %s is empty", response.url)
                return
            names = self.read_header(list(header), response.url)
            for values in rows:
                cells = ["" if value is None else str(value) for value in values]
                if not any(cell.strip() for cell in cells):
                    continue
                self._count("skillstack/rows/read")
                yield dict(zip(names, cells, strict=True))
        finally:
            workbook.close()


SKILLSHARE_CLASS_ID = re.compile(r"/(\d+)/?$")


class SkillshareDatasetSpider(CsvDatasetSpider):
    """Skillshare classes from a dataset of class pages (`skillshare.com/en/classes/<slug>/<id>`).

    The `provider_ref` is the numeric class id ending the URL, so the datasets of different years
    name a class alike. A class is watched with a Skillshare membership and earns no certificate:
    every item says so (`credential` "none", `price` "Skillshare membership", which the normaliser
    reads as the subscription access model with no stated price). The instructor is the
    `institution`.
    """

    provider = "Skillshare"
    defaults = {"credential": "none", "price": "Skillshare membership"}

    def parse_row(self, row: dict[str, str], item: Course) -> Course | None:
        match = SKILLSHARE_CLASS_ID.search(item.get("url", ""))
        if match:
            item["provider_ref"] = match.group(1)
        return item
