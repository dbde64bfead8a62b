"""What a learner already holds, read from the files they bring.

- Open Badges 3.0 and 2.0 credentials: JSON / JSON-LD, a JWT (decoded only: the signature is never
  checked, and every item says so), or baked into a badge image: a PNG `iTXt` chunk (keyword
  `openbadgecredential` in 3.0, `openbadges` in 2.0) or an SVG `<openbadges:credential>` (3.0) /
  `<openbadges:assertion>` (2.0) element.
- LinkedIn's data export `Certifications.csv` (Name, Url, Authority, Started On, Finished On,
  License Number).
- A plain list, one completed course per line: its URL or its title.

This module only parses: each file gives `HeldItem`s or one `FileProblem` line saying why it was not
read, and a bad file never stops the others. Turning items into ESCO skills needs the catalogue and
is `recommender.api.held_skills`. Nothing here writes anything anywhere.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# A baked badge is a small image and a credential a few kB; a larger file is refused before it is parsed.
MAX_FILE_BYTES = 5 * 1024 * 1024
# Text chunks after the image data are only reached by decoding the pixels: refused above this size.
MAX_IMAGE_PIXELS = 4096 * 4096

OB3_CONTEXT = "purl.imsglobal.org/spec/ob/v3p0"
OB2_CONTEXT = "w3id.org/openbadges/v2"
OB1_CONTEXT = "w3id.org/openbadges/v1"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORDS = ("openbadgecredential", "openbadges")  # 3.0, 2.0
SVG_NAMESPACE = "http://openbadges.org"
SVG_ELEMENTS = ("credential", "assertion")  # 3.0, 2.0
LINKEDIN_COLUMNS = ("Name", "Url", "Authority", "Started On", "Finished On", "License Number")
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


class UnreadableError(Exception):
    """Why one file (or one credential in it) was not read, in one line."""


@dataclass(frozen=True)
class Alignment:
    """An Open Badges alignment: where a badge names the skill or competency it stands for."""

    target_name: str | None = None
    target_url: str | None = None
    target_code: str | None = None
    target_description: str | None = None
    target_framework: str | None = None


@dataclass(frozen=True)
class HeldItem:
    """One thing the learner holds: a badge, a certification or a completed course."""

    kind: str  # "badge" | "certification" | "course"
    name: str
    file: str
    format: str  # e.g. "Open Badges 3.0 JSON", "Open Badges 2.0 in a PNG", "LinkedIn Certifications.csv"
    issuer: str | None = None
    achievement: str | None = None  # the achievement's (3.0) or badge class's (2.0) own name
    creator: str | None = None  # who defined the achievement, when the credential names them
    description: str | None = None
    criteria: str | None = None
    alignments: tuple[Alignment, ...] = ()
    url: str | None = None
    checked: str = "signature not checked"  # nothing is ever verified here, and nothing says otherwise

    def source(self) -> str:
        """Where a skill came from, as the learner reads it."""
        what = {"badge": "badge", "certification": "certification", "course": "course"}[self.kind]
        text = f"from {what} '{self.name}'"
        if self.issuer:
            text += f", issued by {self.issuer}"
        if self.creator and self.creator != self.issuer:
            text += f" (achievement by {self.creator})"
        return text + f" [{self.file}]"

    def texts(self) -> list[tuple[str, str]]:
        """(where, text) the skill extractor reads when no alignment names an ESCO skill."""
        found: list[tuple[str, str]] = []
        for a in self.alignments:
            if a.target_name:
                found.append((f"alignment '{a.target_name}'", a.target_name))
            if a.target_description:
                found.append(("alignment description", a.target_description))
        for where, text in (
            ("name", self.achievement or self.name),
            ("description", self.description),
            ("criteria", self.criteria),
        ):
            if text and text.strip():
                found.append((where, text))
        return found


@dataclass(frozen=True)
class FileProblem:
    file: str
    message: str

    def line(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass(frozen=True)
class ReadResult:
    items: tuple[HeldItem, ...] = ()
    problems: tuple[FileProblem, ...] = field(default_factory=tuple)


def read_files(files: Iterable[tuple[str, bytes]]) -> ReadResult:
    """Every file's items; a file that cannot be read adds its one-line problem and the rest still count."""
    items: list[HeldItem] = []
    problems: list[FileProblem] = []
    for name, data in files:
        result = read_file(name, data)
        items.extend(result.items)
        problems.extend(result.problems)
    return ReadResult(tuple(items), tuple(problems))


def read_file(name: str, data: bytes) -> ReadResult:
    try:
        if len(data) > MAX_FILE_BYTES:
            raise UnreadableError(
                f"{len(data) / 1e6:.1f} MB is too large; files up to {MAX_FILE_BYTES // 2**20} MB are read"
            )
        if not data.strip():
            raise UnreadableError("the file is empty")
        if data.startswith(PNG_SIGNATURE):
            return _items(_from_png(name, data))
        text = _text(data)
        stripped = text.lstrip()
        if stripped.startswith("<"):
            return _items(_from_svg(name, text))
        if stripped.startswith(("{", "[")) or name.lower().endswith((".json", ".jsonld")):
            return _items(_from_json_text(name, text, "JSON"))
        if _JWT.match(stripped.strip()):
            return _items(_from_jwt(name, stripped.strip(), "JWT"))
        header = _linkedin_header(text)
        if header is not None:
            return _from_linkedin(name, text, header)
        return _items(_from_list(name, text))
    except UnreadableError as exc:
        return ReadResult(problems=(FileProblem(name, str(exc)),))


def _items(items: list[HeldItem]) -> ReadResult:
    return ReadResult(items=tuple(items))


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableError("not a credential, a PNG or SVG badge, a CSV or a text list (not UTF-8 text)") from None


# ---------------------------------------------------------------- Open Badges


def _from_json_text(name: str, text: str, container: str) -> list[HeldItem]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableError(f"not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    credentials = value if isinstance(value, list) else [value]
    return [_from_credential(name, c, container) for c in credentials]


def _from_jwt(name: str, token: str, container: str) -> list[HeldItem]:
    """A VC-JWT / JWS compact token, decoded without checking its signature (there is no key to check it
    with here, and a decoded-but-unchecked credential must never look verified)."""
    parts = token.split(".")
    try:
        header = json.loads(_b64url(parts[0]))
        payload = json.loads(_b64url(parts[1]))
    except (ValueError, binascii.Error):
        raise UnreadableError("not a JWT: its header or payload is not base64url JSON") from None
    if not isinstance(header, dict) or "alg" not in header or not isinstance(payload, dict):
        raise UnreadableError("not a JWT: the header names no `alg`")
    # VC-JWT as Open Badges 3.0 describes it: the credential is the payload; older issuers put it in `vc`.
    credential = payload.get("vc") if isinstance(payload.get("vc"), dict) else payload
    return [_from_credential(name, credential, f"{container}, signature not checked")]


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _from_credential(name: str, value: object, container: str) -> HeldItem:
    if isinstance(value, str) and _JWT.match(value.strip()):
        return _from_jwt(name, value.strip(), container)[0]
    if not isinstance(value, dict):
        raise UnreadableError("not an Open Badges credential (expected a JSON object)")
    contexts = _strings(value.get("@context"))
    types = set(_strings(value.get("type") or value.get("@type")))
    if any(OB3_CONTEXT in c for c in contexts) or types & {"OpenBadgeCredential", "AchievementCredential"}:
        return _ob3(name, value, f"Open Badges 3.0 {container}")
    if any(OB2_CONTEXT in c for c in contexts):
        return _ob2(name, value, f"Open Badges 2.0 {container}")
    if any(OB1_CONTEXT in c for c in contexts):
        raise UnreadableError("Open Badges 1.x is not read: export the badge as Open Badges 2.0 or 3.0")
    if contexts:
        raise UnreadableError(
            f"unknown credential version (context {', '.join(contexts[:2])}): Open Badges 2.0 and 3.0 are read"
        )
    raise UnreadableError("not an Open Badges credential: it has no @context naming Open Badges 2.0 or 3.0")


def _ob3(name: str, credential: dict, fmt: str) -> HeldItem:
    subject = credential.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    if not isinstance(achievement, dict):
        raise UnreadableError("an Open Badges 3.0 credential without credentialSubject.achievement")
    title = _str(credential.get("name")) or _str(achievement.get("name"))
    if not title:
        raise UnreadableError("an Open Badges 3.0 credential with no name")
    return HeldItem(
        kind="badge",
        name=title,
        file=name,
        format=fmt,
        issuer=_profile_name(credential.get("issuer")),
        achievement=_str(achievement.get("name")),
        creator=_profile_name(achievement.get("creator")),
        description=_str(achievement.get("description")) or _str(credential.get("description")),
        criteria=_narrative(achievement.get("criteria")),
        alignments=_alignments(achievement.get("alignment")),
        url=_str(achievement.get("id")) if _URL.match(_str(achievement.get("id")) or "") else None,
        checked=_checked(fmt, credential),
    )


def _ob2(name: str, value: dict, fmt: str) -> HeldItem:
    types = set(_strings(value.get("type") or value.get("@type")))
    badge = value if "BadgeClass" in types else value.get("badge")
    if isinstance(badge, str):
        raise UnreadableError(
            "the assertion only links its badge class (a URL, which is not fetched); export it with the badge embedded"
        )
    if not isinstance(badge, dict) or not _str(badge.get("name")):
        raise UnreadableError("an Open Badges 2.0 assertion without a badge class")
    return HeldItem(
        kind="badge",
        name=_str(badge.get("name")),
        file=name,
        format=fmt,
        issuer=_profile_name(badge.get("issuer")),
        achievement=_str(badge.get("name")),
        description=_str(badge.get("description")),
        criteria=_narrative(badge.get("criteria")),
        alignments=_alignments(badge.get("alignment")),
        url=_str(badge.get("id")) if _URL.match(_str(badge.get("id")) or "") else None,
        checked=_checked(fmt, value),
    )


def _checked(fmt: str, credential: dict) -> str:
    if "signature not checked" in fmt:
        return "signature not checked"
    if credential.get("proof"):
        return "proof not checked"
    return "not signed; not checked"


def _alignments(value: object) -> tuple[Alignment, ...]:
    found = []
    for a in value if isinstance(value, list) else [value]:
        if isinstance(a, dict):
            found.append(
                Alignment(
                    target_name=_str(a.get("targetName")),
                    target_url=_str(a.get("targetUrl")),
                    target_code=_str(a.get("targetCode")),
                    target_description=_str(a.get("targetDescription")),
                    target_framework=_str(a.get("targetFramework")),
                )
            )
    return tuple(found)


def _profile_name(value: object) -> str | None:
    if isinstance(value, dict):
        return _str(value.get("name")) or _str(value.get("id"))
    return _str(value)


def _narrative(value: object) -> str | None:
    return _str(value.get("narrative")) if isinstance(value, dict) else None


def _strings(value: object) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str)]


def _str(value: object) -> str | None:
    return (" ".join(value.split()) or None) if isinstance(value, str) else None


# ---------------------------------------------------------------- baked badges


def _from_png(name: str, data: bytes) -> list[HeldItem]:
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        chunks = dict(image.info)
        if not any(k in chunks for k in PNG_KEYWORDS):
            # Chunks after the pixels are only read by decoding them: bounded, so a small file of
            # huge dimensions cannot take the memory.
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise UnreadableError(f"a {width}×{height} PNG is larger than a badge image; not read")
            chunks.update(image.text)
    except UnreadableError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise UnreadableError(f"not a readable PNG ({' '.join(str(exc).split())})") from None
    for keyword in PNG_KEYWORDS:
        value = chunks.get(keyword)
        if isinstance(value, str) and value.strip():
            return _baked(name, str(value).strip(), "in a PNG")
    raise UnreadableError("a PNG without a baked credential (no iTXt chunk 'openbadgecredential' or 'openbadges')")


def _from_svg(name: str, text: str) -> list[HeldItem]:
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(text)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise UnreadableError(f"not a readable SVG ({' '.join(str(exc).split())})") from None
    for element in root.iter():
        namespace, _, local = str(element.tag).rpartition("}")
        if namespace.lstrip("{") == SVG_NAMESPACE and local in SVG_ELEMENTS:
            content = (element.text or "").strip()
            if content:
                return _baked(name, content, "in an SVG")
            if element.get("verify"):
                raise UnreadableError("the badge only links its assertion (a URL, which is not fetched)")
    raise UnreadableError("an SVG without a baked credential (no <openbadges:credential> or <openbadges:assertion>)")


def _baked(name: str, content: str, container: str) -> list[HeldItem]:
    if _URL.match(content):
        raise UnreadableError("the badge only links its assertion (a URL, which is not fetched)")
    if _JWT.match(content):
        return _from_jwt(name, content, f"JWT {container}")
    return _from_json_text(name, content, container)


# ---------------------------------------------------------------- LinkedIn and plain lists


def _linkedin_header(text: str) -> int | None:
    """The line of LinkedIn's header (an export may start with a few lines of notes), or None."""
    for number, line in enumerate(text.splitlines()[:5]):
        columns = [c.strip() for c in next(csv.reader([line]), [])]
        if "Name" in columns and "Authority" in columns:
            return number
    return None


def _from_linkedin(name: str, text: str, header: int) -> ReadResult:
    rows = csv.DictReader(io.StringIO("\n".join(text.splitlines()[header:])))
    items, problems = [], []
    for number, row in enumerate(rows, start=header + 2):
        title = _str(row.get("Name"))
        if not title:
            problems.append(FileProblem(name, f"line {number}: no Name; skipped"))
            continue
        url = _str(row.get("Url"))
        items.append(
            HeldItem(
                kind="certification",
                name=title,
                file=name,
                format="LinkedIn Certifications.csv",
                issuer=_str(row.get("Authority")),
                url=url if url and _URL.match(url) else None,
                checked="as the learner listed it",
            )
        )
    if not items and not problems:
        problems.append(FileProblem(name, "a LinkedIn Certifications.csv without rows"))
    return ReadResult(tuple(items), tuple(problems))


def _from_list(name: str, text: str) -> list[HeldItem]:
    items = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if not line or line.startswith("#"):
            continue
        url = line if _URL.match(line) else None
        items.append(
            HeldItem(
                kind="course",
                name=line,
                file=name,
                format="course list",
                url=url,
                checked="as the learner listed it",
            )
        )
    if not items:
        raise UnreadableError("no course URL or title in it")
    return items
