"""The coordinator's dashboard with 50 units x 3 cycles, against the cycle list of the same units.

Data generator (seeded with SEED, reproducible): a temporary instance folder with its own
SQLite database, upgraded by the migrations; one country with UNITS clusters, each with
CYCLES validated CCPM cycles (2023, 2024, 2025) answered by a coordinator and PARTNERS
partners drawn as in bench_reports.py (``ccpm_responses``: each respondent's answers around
a level of their own, some don't know and blanks, skip logic followed), and a drafted action
plan on each unit's latest cycle with one stock-take on every other action. Rows are
written straight through the models (the services would take minutes for 150 cycles); the
dashboard's first view then scores every cycle once and stores the results, as the web app
does, and is not timed.

Timed, in the same process through Flask's test client, signed in as the country's
coordinator, each REPEATS times in turns, fastest kept:
- the dashboard, ``GET /dashboard/BENCH``: heat map, trends, partners' scores, shared
  weaknesses, progress and overdue actions of the 50 units (150 stored results);
- baseline: ``GET /cycles/``, the list of the same 150 cycles with their completion: a page
  of the same units that reads no results.
Target (issue "Action plans"): the dashboard under 300 ms.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from typing import Any

SEED = 20261202
UNITS = 50
CYCLES = 3
PARTNERS = 8
REPEATS = 7
TARGET_MS = 300.0
PASSWORD = "bench-password"
COORDINATOR = "bench.coordinator@example.org"


def _seed(rng: random.Random) -> None:
    """The units, cycles, answers and plans of the module docstring (in an app context)."""
    from bench.bench_reports import ccpm_responses
    from surveyapp.extensions import db
    from surveyapp.models import (
        Action,
        ActionSource,
        Answer,
        Cycle,
        CycleState,
        ProgressEntry,
        Response,
        ResponseState,
        Role,
        UnitKind,
    )
    from surveyapp.services.instrument_versions import ensure_bundled_versions, loaded_instrument
    from surveyapp.services.units import create_unit, grant_role
    from surveyapp.services.users import create_user

    version = next(v for v in ensure_bundled_versions() if v.key == "ccpm")
    loaded = loaded_instrument(version)
    country = create_unit("BENCH", "Benchmark country", UnitKind.country)
    grant_role(create_user(COORDINATOR, "Benchmark coordinator", PASSWORD), country,
               Role.coordinator)
    quarter = f"{dt.date.today().year}-Q1"
    for number in range(1, UNITS + 1):
        unit = create_unit(f"BENCH-{number:02d}", f"Cluster {number}", UnitKind.cluster, country)
        for year in range(2023, 2023 + CYCLES):
            cycle = Cycle(unit=unit, instrument_version=version, title=f"Cluster {number} {year}",
                          period_start=dt.date(year, 1, 1), period_end=dt.date(year, 12, 31),
                          state=CycleState.validated)
            db.session.add(cycle)
            by_respondent: dict[str, Response] = {}
            for answer in ccpm_responses(loaded, PARTNERS, rng).answers:
                response = by_respondent.get(answer.respondent)
                if response is None:
                    response = Response(cycle=cycle, questionnaire=answer.questionnaire,
                                        state=ResponseState.validated)
                    by_respondent[answer.respondent] = response
                    db.session.add(response)
                response.answers.append(Answer(item_id=answer.item, value=answer.value,
                                               comment=answer.comment))
        for position, node in enumerate(("1.1", "2.2", "3.1", "5", "7"), start=1):
            action = Action(cycle=cycle, position=position, title=f"Strengthen {node}",
                            nodes=[node], source=ActionSource.rating,
                            due_quarter=rng.choice(("2025-Q4", "2026-Q2", "2026-Q4")))
            db.session.add(action)
            if position % 2:
                db.session.add(ProgressEntry(action=action, quarter=quarter,
                                             percent=rng.randint(0, 100)))
        db.session.flush()
    db.session.commit()


def _fastest(get: Any, paths: list[str]) -> list[float]:
    """Each path's fastest of REPEATS requests, in milliseconds, the paths run in turns."""
    timings: list[list[float]] = [[] for _ in paths]
    for _ in range(REPEATS):
        for path, found in zip(paths, timings, strict=True):
            started = time.perf_counter()
            response = get(path)
            found.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path} answered {response.status_code}")
    return [min(found) for found in timings]


def run() -> list[dict[str, object]]:
    from flask_migrate import upgrade

    from surveyapp import MIGRATIONS_DIR, create_app

    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as folder:
        app = create_app({"INSTANCE_PATH": folder, "SECRET_KEY": "bench-dashboard",
                          "TESTING": True, "WTF_CSRF_ENABLED": False,
                          "DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite'}"})
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))
            started = time.perf_counter()
            _seed(random.Random(SEED))
            print(f"dashboard: seeded {UNITS} units x {CYCLES} cycles in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
        client = app.test_client()
        signed_in = client.post("/auth/login", data={"email": COORDINATOR,
                                                     "password": PASSWORD})
        assert signed_in.status_code == 302, "the benchmark coordinator could not sign in"
        started = time.perf_counter()
        first = client.get("/dashboard/BENCH")
        assert first.status_code == 200 and first.get_data(as_text=True).count(
            '<th scope="row">BENCH-') >= UNITS
        print(f"dashboard: first view, scoring and storing {UNITS * CYCLES} cycles, "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        ours, baseline = _fastest(client.get, ["/dashboard/BENCH", "/cycles/"])
        with app.app_context():
            from surveyapp.extensions import db

            db.engine.dispose()
    return [{
        "name": f"dashboard, {UNITS} units x {CYCLES} cycles", "value": round(ours, 1),
        "unit": "ms", "baseline": "GET /cycles/ (the same 150 cycles listed)",
        "baseline_value": round(baseline, 1), "ratio": round(ours / baseline, 2),
        "target": f"< {TARGET_MS:.0f} ms", "met": ours < TARGET_MS,
    }]
