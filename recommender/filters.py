"""`Filters`: what a user narrows a goal's courses to. One type for a query (`recommender.api`) and a
watched goal (`recommender.watch`); the dashboard and the CLI reach it as `api.Filters`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Filters:
    free_only: bool = False
    with_certificate: bool = False
    levels: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    max_hours: float | None = None
    max_price: float | None = None
    providers: tuple[str, ...] = ()
