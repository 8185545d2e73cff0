"""The questionnaire under load: 16 signed-in clients on gunicorn, page views and autosaves.

Set-up (no generator; the demo data plus 15 more focal points): a temporary instance folder
with its own SECRET_KEY and SQLite database, ``surveyapp init`` and ``surveyapp demo``;
then 15 accounts bench.focal01..15@example.org are given the focal point role on UNDP and
added to demo cycle 2 (the JIU self-assessment), so that with focal.undp@example.org each of
the CLIENTS clients edits a response of its own: autosaves never race on one row, as they
would not in real use (one focal point per response). gunicorn then serves the app with
``-w 2 --threads 4`` on 127.0.0.1 (loopback only), and is stopped at the end, also on error.

Load: CLIENTS threads in this process, each with its own cookie jar, signed in through the
login form (CSRF token taken from the form). Each phase lasts PHASE_SECONDS; every client
sends its next request as soon as the last one answered (a closed loop, no think time):
- baseline: GET /auth/login, the cheapest dynamic route (a template and a CSRF token, no
  database query, no signed-in user); a static file would measure gunicorn alone;
- page: GET /cycles/2/respond/self_assessment/page/1 (layout, answers, evidence counts,
  the page's template);
- autosave: POST /cycles/2/respond/self_assessment/autosave with the JSON the page's script
  sends (``{"slots": {key: {"value": ...}}}``, header X-CSRFToken), changing the stage of
  the page's first stage question between 2 and 3 each time, so that every request writes.
Any answer but 200 is counted apart (409: the conflict of optimistic locking); only the 200s
enter the latencies. The clients share the machine's 2 cores with the server, which
lowers every figure alike, the baseline included.
Targets (issue "Benchmark suite"): page and autosave throughput each >= 35 % of the
baseline's; p95 latency under 150 ms for the page and under 100 ms for autosave.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CLIENTS = 16
PHASE_SECONDS = 10.0
DEMO_FOCAL_POINT = "focal.undp@example.org"
PASSWORD = "demo-password"
CYCLE = 2
PAGE = f"/cycles/{CYCLE}/respond/self_assessment/page/1"
AUTOSAVE = f"/cycles/{CYCLE}/respond/self_assessment/autosave"
BASELINE = "/auth/login"
THROUGHPUT_SHARE = 0.35
P95_TARGET_MS = {"page": 150.0, "autosave": 100.0}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|'
                  r'<meta name="csrf-token" content="([^"]+)"')
STAGE_SLOT = re.compile(r'data-slot="([^"]+)"[^>]*data-type="stage"')
BENCH_DIR = Path(__file__).resolve().parent


def _extra_focal_points() -> list[str]:
    return [f"bench.focal{number:02d}@example.org" for number in range(1, CLIENTS)]


def _add_focal_points(instance: Path) -> None:
    """In the new instance: the extra focal points, each with a response in cycle 2."""
    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import Cycle, ParticipantRole, Role
    from surveyapp.services.audit import Actor
    from surveyapp.services.cycles import add_participant
    from surveyapp.services.units import grant_role
    from surveyapp.services.users import create_user, find_user_by_email

    app = create_app({"INSTANCE_PATH": str(instance)})
    with app.app_context():
        cycle = db.session.get_one(Cycle, CYCLE)
        owner = find_user_by_email("admin@example.org")
        assert owner is not None, "surveyapp demo makes admin@example.org"
        for number, email in enumerate(_extra_focal_points(), start=1):
            user = create_user(email, f"Benchmark focal point {number}", PASSWORD)
            grant_role(user, cycle.unit, Role.focal_point)
            add_participant(cycle, user, ParticipantRole.focal_point, Actor.of(owner))
        db.session.commit()


def _surveyapp(instance: Path, *arguments: str) -> None:
    command = [str(Path(sys.executable).parent / "surveyapp"), *arguments]
    done = subprocess.run(command, env={**os.environ, "SURVEYAPP_INSTANCE_PATH": str(instance)},
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _gunicorn(instance: Path) -> Iterator[str]:
    """gunicorn serving the app on a free loopback port; stopped on leaving, whatever happens."""
    port = _free_port()
    log = (instance / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "--threads", "4",
         "-b", f"127.0.0.1:{port}", "surveyapp:create_app()"],
        env={**os.environ, "SURVEYAPP_INSTANCE_PATH": str(instance)},
        stdout=log, stderr=subprocess.STDOUT, cwd=BENCH_DIR.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + BASELINE, timeout=5).read()
                break
            except OSError:  # refused, reset or timed out while the workers import the app
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start: see "
                                       f"{instance / 'gunicorn.log'}") from None
                time.sleep(0.2)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


class Client:
    """One browser: its own cookie jar, signed in as one focal point."""

    def __init__(self, base: str, email: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        login = self.get(BASELINE)[1]
        form = urllib.parse.urlencode({"csrf_token": _csrf(login), "email": email,
                                       "password": PASSWORD}).encode()
        self.opener.open(base + BASELINE, data=form, timeout=30).read()
        status, page = self.get(PAGE)
        if status != 200:
            raise RuntimeError(f"{email}: {PAGE} answered {status} after signing in")
        self.csrf = _csrf(page)
        found = STAGE_SLOT.search(page)
        if found is None:
            raise RuntimeError(f"{PAGE} has no stage question to autosave")
        self.stage_slot = found.group(1)
        self.saves = 0
        status, answer = self.autosave()
        if status != 200 or self.stage_slot not in json.loads(answer).get("saved", []):
            raise RuntimeError(f"{email}: an autosave of {self.stage_slot} saved nothing "
                               f"({status}: {answer[:200]})")

    def get(self, path: str) -> tuple[int, str]:
        return self._send(urllib.request.Request(self.base + path))

    def autosave(self) -> tuple[int, str]:
        self.saves += 1
        body = json.dumps({"slots": {self.stage_slot: {"value": str(2 + self.saves % 2)}}})
        return self._send(urllib.request.Request(
            self.base + AUTOSAVE, data=body.encode(), method="POST",
            headers={"Content-Type": "application/json", "X-CSRFToken": self.csrf}))

    def _send(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    if found is None:
        raise RuntimeError("no CSRF token in the page")
    return found.group(1) or found.group(2)


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


def _load(clients: list[Client], send: Callable[[Client], tuple[int, str]]) -> Phase:
    """Every client sends requests back to back for PHASE_SECONDS (closed loop)."""
    phase = Phase()
    lock = threading.Lock()
    deadline = time.perf_counter() + PHASE_SECONDS

    def loop(client: Client) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, _ = send(client)
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
        instance = Path(folder) / "instance"
        instance.mkdir()
        (instance / "config.py").write_text(f"SECRET_KEY = {secrets.token_hex(32)!r}\n")
        _surveyapp(instance, "init")
        _surveyapp(instance, "demo")
        _add_focal_points(instance)
        with _gunicorn(instance) as base:
            clients = [Client(base, email)
                       for email in (DEMO_FOCAL_POINT, *_extra_focal_points())]
            baseline = _load(clients, lambda client: client.get(BASELINE))
            page = _load(clients, lambda client: client.get(PAGE))
            autosave = _load(clients, Client.autosave)
    for name, phase in (("baseline", baseline), ("page", page), ("autosave", autosave)):
        print(f"web {name}: {len(phase.latencies_ms)} x 200 in {phase.seconds:.1f} s, "
              f"{phase.throughput:.1f} req/s, p95 {phase.p95_ms:.1f} ms, "
              f"median {sorted(phase.latencies_ms)[len(phase.latencies_ms) // 2]:.1f} ms, "
              f"other answers {phase.refused or 'none'}")
    return _figure("page", page, baseline) + _figure("autosave", autosave, baseline)
