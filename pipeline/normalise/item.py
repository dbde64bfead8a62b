"""One raw crawl item → the catalogue fields of its course record (`normalise_item`), built from
the field families of the other modules; extras made JSON-safe, raw values kept as text.
"""

from __future__ import annotations

import decimal
import json
import numbers
from collections.abc import Mapping
from typing import Any

from core.course_record import is_missing
from core.language import normalise_language
from pipeline.normalise.duration import parse_duration
from pipeline.normalise.offer import parse_offer
from pipeline.normalise.scalars import _as_number, _short, parse_count, parse_rating
from pipeline.normalise.text import (
    NAME_MAX_CHARS,
    _clean_line,
    _clean_list,
    _clean_names,
    _clean_url,
    clean_text,
    is_lowercased_title,
    separate_sentences,
    title_case,
)
from pipeline.normalise.vocabulary import Credential, normalise_course_mode, normalise_credential, normalise_level

ITEM_KEYS = (
    "name",
    "description",
    "provider",
    "institution",
    "url",
    "in_language",
    "level",
    "hours",
    "duration_raw",
    "course_mode",
    "credential",
    "credential_raw",
    "price",
    "currency",
    "access_model",
    "certificate_price",
    "price_raw",
    "rating",
    "rating_count",
    "skills_declared",
    "extras",
)


def _json_safe(value: Any, depth: int = 0) -> Any:
    """A copy that json.dumps accepts: NaN/inf become None, unknown objects their str."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real | decimal.Decimal):
        return _as_number(value)
    if depth >= 20:
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v, depth + 1) for v in value]
    return str(value)


def _raw_text(raw: Any) -> str | None:
    """The raw value as text for the *_raw columns; containers as JSON."""
    if is_missing(raw):
        return None
    if isinstance(raw, Mapping | list | tuple | set):
        return json.dumps(_json_safe(raw), ensure_ascii=False, sort_keys=True)[:1000]
    return str(raw)[:2000].strip()[:1000]


def normalise_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """The catalogue fields of one raw crawl item (the Course fields of crawlers/items.py).

    Returns exactly ITEM_KEYS. Never raises on bad values: a value that cannot be read becomes None
    (an empty list for skills_declared, {} for extras). name is cleaned to one line of at most
    NAME_MAX_CHARS (and title-cased when it came all in lower case), description with clean_text;
    in_language falls back to detection on name + description. When the source names no credential
    but prices a certificate (edX "FREE-Add a Verified Certificate for $49 USD"), credential is
    "certificate" with credential_raw None.

    extras is the spider's own extras (made JSON-safe) plus, where the spider did not set them:
    weekly_hours, enrollments (parsed), subjects (cleaned), date_modified. certificate_price is the
    certificate's price of a free-audit+paid-certificate offer ("... Certificate for $49 USD" → 49).
    """
    if not isinstance(item, Mapping):
        item = {}
    name = _clean_line(item.get("name"), NAME_MAX_CHARS)
    if name and is_lowercased_title(name):
        name = title_case(name)
    description = separate_sentences(clean_text(item.get("description"))) or None
    duration = parse_duration(item.get("duration"), item.get("weeks"), item.get("hours"))
    offer = parse_offer(item.get("price"), item.get("currency"), item.get("is_free"))
    credential = normalise_credential(item.get("credential"))
    if credential.kind is None and credential.raw is None and offer.certificate_price is not None:
        credential = Credential("certificate", None)
    detection_text = "\n".join(t for t in (name, description) if t) or None

    raw_extras = item.get("extras")
    if isinstance(raw_extras, Mapping):
        extras = _json_safe(raw_extras)
    else:
        extras = {} if is_missing(raw_extras) else {"extras": _json_safe(raw_extras)}
    derived = {
        "weekly_hours": duration.weekly_hours,
        "enrollments": parse_count(item.get("enrollments")),
        "subjects": _clean_list(item.get("subjects")),
        "date_modified": _short(item.get("date_modified"), 100),
    }
    for key, value in derived.items():
        if value is not None and value != []:
            extras.setdefault(key, value)

    return {
        "name": name,
        "description": description,
        "provider": _clean_names(item.get("provider")),
        "institution": _clean_names(item.get("institution")),
        "url": _clean_url(item.get("url")),
        "in_language": normalise_language(item.get("in_language"), text=detection_text),
        "level": normalise_level(item.get("level")),
        "hours": duration.hours,
        "duration_raw": duration.raw,
        "course_mode": normalise_course_mode(item.get("course_mode")),
        "credential": credential.kind,
        "credential_raw": credential.raw,
        "price": offer.price,
        "currency": offer.currency,
        "access_model": offer.access_model,
        "certificate_price": offer.certificate_price,
        "price_raw": _raw_text(item.get("price")),
        "rating": parse_rating(item.get("rating")),
        "rating_count": parse_count(item.get("rating_count")),
        "skills_declared": _clean_list(item.get("skills_declared")),
        "extras": extras,
    }
