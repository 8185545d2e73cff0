"""The questionnaire under load: 16 signed-in clients on gunicorn, page views and autosaves.

Set-up (no generator; the demo data plus 15 more focal points, ``bench/live.py``): a
temporary instance folder with its own SECRET_KEY and SQLite database, ``surveyapp init``
and ``surveyapp demo``; then 15 accounts load.focal001..015@example.org are given the focal
point role on UNDP and added to demo cycle 2 (the JIU self-assessment), so that with
focal.undp@example.org each of the CLIENTS clients edits a response of its own: autosaves
never race on one row, as they would not in real use (one focal point per response).
gunicorn then serves the app with ``-w 2 --threads 4`` on 127.0.0.1 (loopback only), and is
stopped at the end, also on error.

Load: CLIENTS threads in this process, each with its own cookie jar, signed in through the
login form (CSRF token taken from the form). Each phase lasts PHASE_SECONDS; every client
sends its next request as soon as the last one answered (a closed loop, no think time):
- baseline: GET /auth/login, the cheapest dynamic route (a template and a CSRF token, no
  database query, no signed-in user); a static file would measure gunicorn alone;
- page: GET /cycles/2/respond/self_assessment/page/1 (layout, answers, evidence counts,
  the page's template);
- autosave: POST /cycles/2/respond/self_assessment/autosave with the JSON the page's script
  sends (``{"slots": {key: {"value": ...}}}``, header X-CSRFToken), changing the stage of
  the questionnaire's first stage question between 2 and 3 each time, so that every request
  writes.
Any answer but 200 is counted apart (409: the conflict of optimistic locking); only the 200s
enter the latencies. The clients share the machine's 2 cores with the server, which
lowers every figure alike, the baseline included.
Targets (issue "Benchmark suite"): page and autosave throughput each >= 35 % of the
baseline's; p95 latency under 150 ms for the page and under 100 ms for autosave.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.live import LOGIN, Answer, Client, Instance, jiu_questionnaire, respond_path, serve

CLIENTS = 16
PHASE_SECONDS = 10.0
PAGE = respond_path("page/1")
AUTOSAVE = respond_path("autosave")
BASELINE = LOGIN
THROUGHPUT_SHARE = 0.35
P95_TARGET_MS = {"page": 150.0, "autosave": 100.0}


class BenchClient:
    """One signed-in focal point on their questionnaire's first page."""

    def __init__(self, base: str, email: str, stage_slot: str) -> None:
        self.client = Client(base).login(email)
        #: The baseline's requests come without a session, as the login page is meant for.
        self.anonymous = Client(base)
        if self.get(PAGE) != 200:
            raise RuntimeError(f"{email}: {PAGE} did not answer 200 after signing in")
        self.stage_slot = stage_slot
        self.saves = 0
        answer = self._autosave()
        if answer.status != 200 or stage_slot not in json.loads(answer.body).get("saved", []):
            raise RuntimeError(f"{email}: an autosave of {stage_slot} saved nothing "
                               f"({answer.status}: {answer.body[:200]})")

    def get(self, path: str) -> int:
        return self.client.get(path).status

    def baseline(self) -> int:
        return self.anonymous.get(BASELINE).status

    def autosave(self) -> int:
        return self._autosave().status

    def _autosave(self) -> Answer:
        self.saves += 1
        return self.client.post_json(AUTOSAVE, {"slots": {
            self.stage_slot: {"value": str(2 + self.saves % 2)}}})


@dataclass
class Phase:
    """What one phase measured: latencies of the 200s, counts of everything else."""

    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    refused: dict[int, int] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _load(clients: list[BenchClient], send: Callable[[BenchClient], int]) -> Phase:
    """Every client sends requests back to back for PHASE_SECONDS (closed loop)."""
    phase = Phase()
    lock = threading.Lock()
    deadline = time.perf_counter() + PHASE_SECONDS

    def loop(client: BenchClient) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status = send(client)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status == 200:
                    phase.latencies_ms.append(elapsed)
                else:
                    phase.refused[status] = phase.refused.get(status, 0) + 1

    threads = [threading.Thread(target=loop, args=(client,)) for client in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - started
    if not phase.latencies_ms:
        raise RuntimeError(f"no request succeeded: {phase.refused}")
    return phase


def _figure(name: str, phase: Phase, baseline: Phase) -> list[dict[str, object]]:
    share = phase.throughput / baseline.throughput
    refused = ", ".join(f"{count} x {status}" for status, count in sorted(phase.refused.items()))
    suffix = f"; refused: {refused}" if refused else ""
    return [
        {"name": f"{name} throughput, {CLIENTS} clients{suffix}",
         "value": round(phase.throughput, 1), "unit": "req/s",
         "baseline": f"GET {BASELINE} on the same server",
         "baseline_value": round(baseline.throughput, 1), "ratio": round(share, 3),
         "target": f">= {THROUGHPUT_SHARE:.0%} of baseline",
         "met": share >= THROUGHPUT_SHARE and not phase.refused},
        {"name": f"{name} p95 latency, {CLIENTS} clients", "value": round(phase.p95_ms, 1),
         "unit": "ms", "baseline": f"GET {BASELINE} p95",
         "baseline_value": round(baseline.p95_ms, 1),
         "ratio": round(phase.p95_ms / baseline.p95_ms, 2),
         "target": f"< {P95_TARGET_MS[name]:g} ms", "met": phase.p95_ms < P95_TARGET_MS[name]},
    ]


def run() -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as folder:
        instance = Instance(Path(folder) / "instance")
        emails = instance.prepare(focal_points=CLIENTS - 1)
        stage_slot = jiu_questionnaire(instance).stage_items[0]
        with serve(instance) as server:
            clients = [BenchClient(server.base, email, stage_slot) for email in emails]
            baseline = _load(clients, BenchClient.baseline)
            page = _load(clients, lambda client: client.get(PAGE))
            autosave = _load(clients, BenchClient.autosave)
    for name, phase in (("baseline", baseline), ("page", page), ("autosave", autosave)):
        print(f"web {name}: {len(phase.latencies_ms)} x 200 in {phase.seconds:.1f} s, "
              f"{phase.throughput:.1f} req/s, p95 {phase.p95_ms:.1f} ms, "
              f"median {sorted(phase.latencies_ms)[len(phase.latencies_ms) // 2]:.1f} ms, "
              f"other answers {phase.refused or 'none'}")
    return _figure("page", page, baseline) + _figure("autosave", autosave, baseline)
