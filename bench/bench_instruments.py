"""Instrument library load: cold (parse + validate every bundled file) and cached.

Data: the bundled library itself (instruments/library/*.yaml), no generator.
Baselines, run side by side in the same process:
- cold load vs ``yaml.load`` with libyaml's safe loader on the same bytes: the floor any YAML
  format pays; the ratio is what our validation and cross-checks add.
- cached load vs the cold load: what the sha256 cache saves.
Target (instrument issue): the whole library in under 300 ms.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import yaml

from instruments.loader import clear_cache, library_files, load_library

REPEATS = 5


def _best_of(action: Callable[[], object], repeats: int = REPEATS) -> float:
    """Fastest of several runs, in milliseconds (the least disturbed by a noisy machine)."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return min(timings)


def _cold_load() -> None:
    clear_cache()
    load_library()


def run() -> list[dict[str, object]]:
    files = library_files()
    contents = [file.read_bytes() for file in files]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def plain_yaml() -> None:
        for data in contents:
            yaml.load(data, Loader=loader)

    cold = _best_of(_cold_load)
    floor = _best_of(plain_yaml)
    load_library()
    cached = _best_of(load_library)
    return [
        {"name": f"instrument library cold load ({len(files)} files)", "value": round(cold, 2),
         "unit": "ms", "baseline": "yaml.load (libyaml) of the same files",
         "baseline_value": round(floor, 2), "ratio": round(cold / floor, 2),
         "target": "< 300 ms", "met": cold < 300},
        {"name": "instrument library cached load", "value": round(cached, 3), "unit": "ms",
         "baseline": "cold load", "baseline_value": round(cold, 2),
         "ratio": round(cached / cold, 4), "target": "< cold load", "met": cached < cold},
    ]
