"""This month's city figures for the public home (received, closed, on-time rate, satisfaction).

The supervision facts live in governance, above residents in the layers: governance registers
the provider here at ready() (governance.resident_figures), residents only calls it. Without a
provider (a test, a trimmed deployment) the home shows no figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CityFigures:
    received: int
    closed: int
    on_time_rate: float | None  # closed on time / closed, 0..1
    satisfaction_rate: float | None  # rated 4-5 / rated, 0..1


_provider: list[Callable[[], CityFigures]] = []


def register(provider: Callable[[], CityFigures]) -> None:
    _provider[:] = [provider]


def city_figures() -> CityFigures | None:
    return _provider[0]() if _provider else None
