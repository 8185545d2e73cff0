"""Run the benchmarks: ``python -m bench [NAME ...]`` (``make bench``).

Every ``bench/bench_*.py`` module has ``run() -> list[dict]``; each dict is one
figure: ``{"name", "value", "unit", "baseline", "baseline_value", "ratio",
"target", "met"}``, the baseline being measured side by side in the same
process because machines here are shared and noisy. The figures are written to
``bench/results.json`` (entries of modules not run this time are kept) and
printed as a table. A missed target is reported, never a failure; a benchmark
that crashes is (exit status 1), because then there is no figure at all.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
FIELDS = ("name", "value", "unit", "baseline", "baseline_value", "ratio", "target", "met")


def modules(selected: list[str]) -> list[str]:
    """Names of the benchmark modules to run: all of them, or those whose name contains a word."""
    names = sorted(path.stem for path in HERE.glob("bench_*.py"))
    return [name for name in names if not selected or any(word in name for word in selected)]


def check(entry: dict[str, Any], module: str) -> dict[str, Any]:
    missing = [field for field in FIELDS if field not in entry]
    if missing:
        raise ValueError(f"{module}: a result lacks {', '.join(missing)}")
    # numpy scalars (a ratio, a comparison) become plain numbers and booleans for JSON
    return {field: getattr(entry[field], "item", lambda v=entry[field]: v)() for field in FIELDS}


def table(entries: list[dict[str, Any]]) -> str:
    def verdict(met: object) -> str:
        return "-" if met is None else "met" if met is True else "MISSED"

    rows = [("benchmark", "value", "baseline", "ratio", "target", "")]
    rows += [(e["name"], f"{e['value']} {e['unit']}", f"{e['baseline_value']} ({e['baseline']})",
              f"{e['ratio']}x", str(e["target"]), verdict(e["met"])) for e in entries]
    widths = [min(max(len(row[column]) for row in rows), 60) for column in range(6)]
    return "\n".join("  ".join(cell[:60].ljust(width) for cell, width in zip(row, widths,
                                                                             strict=True))
                     for row in rows)


def main(selected: list[str]) -> int:
    names = modules(selected)
    if not names:
        print("no benchmarks match", " ".join(selected))
        return 1
    fresh: list[dict[str, Any]] = []
    crashed: list[str] = []
    for name in names:
        print(f"running {name} ...", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            fresh += [check(entry, name) for entry in module.run()]
        except Exception:  # report every crashed benchmark, then fail
            traceback.print_exc()
            crashed.append(name)
        print(f"  {name} took {time.perf_counter() - started:.1f} s", flush=True)

    kept = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else []
    names_now = {entry["name"] for entry in fresh}
    merged = [entry for entry in kept if entry.get("name") not in names_now] + fresh
    RESULTS.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    print()
    print(table(fresh))
    missed = [entry["name"] for entry in fresh if entry["met"] is False]
    print(f"\n{len(fresh)} figures written to {RESULTS.relative_to(HERE.parent)}; "
          f"{len(missed)} target(s) missed" + (": " + "; ".join(missed) if missed else ""))
    if crashed:
        print(f"crashed: {', '.join(crashed)}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
