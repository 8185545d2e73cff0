"""A bounded load of signed-in focal points mixing page views, autosaves and uploads.

Each user is a thread with its own session (``bench.live.Client``) answering its own
response of the demo JIU cycle, as real focal points do (one per response), so that no
request is refused by optimistic locking. In a loop until the time is up, a user picks a
request at random (seeded, so runs are comparable): a questionnaire page (GET one of the
first pages), an autosave of a free-text answer (the JSON the page's script sends, with the
X-CSRFToken header), or an upload of a small PDF of its own content to a stage question
(multipart form with the CSRF token; the 302 is the answer, not followed). Between requests
it pauses for a random think time, mean ``think_seconds``: people read and type.

Every answer is counted by request type and status; latencies are those of answers below
500, as the user waited for them. Any 5xx or request without an answer is a failure.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

from bench.live import (
    NO_ANSWER,
    Client,
    JiuQuestionnaire,
    evidence_upload_path,
    respond_path,
    unique_pdf,
    upload_fields,
)

#: (request type, weight): what users do most is read pages and type.
MIX = (("page view", 5), ("autosave", 4), ("upload", 1))
PAGES = 4


@dataclass
class RequestStats:
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)

    def percentile(self, share: float) -> float | None:
        """Nearest-rank percentile of the latencies, in ms."""
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return None
        return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]

    @property
    def failures(self) -> int:
        return sum(count for status, count in self.statuses.items()
                   if status >= 500 or status == NO_ANSWER)


@dataclass
class LoadResult:
    users: int
    seconds: float
    by_type: dict[str, RequestStats]

    @property
    def failures(self) -> int:
        return sum(stats.failures for stats in self.by_type.values())

    def figures(self) -> list[dict[str, object]]:
        rows = []
        for name, stats in self.by_type.items():
            rows.append({
                "request": name, "count": len(stats.latencies_ms),
                "per_second": round(len(stats.latencies_ms) / self.seconds, 1),
                "p50_ms": _rounded(stats.percentile(0.50)),
                "p95_ms": _rounded(stats.percentile(0.95)),
                "p99_ms": _rounded(stats.percentile(0.99)),
                "statuses": {str(status): count for status, count
                             in sorted(stats.statuses.items())}})
        return rows

    def table(self) -> str:
        lines = [f"{self.users} users for {self.seconds:.0f} s",
                 f"{'request':<10} {'count':>6} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} "
                 f"{'p99 ms':>7}  statuses"]
        for row in self.figures():
            lines.append(f"{row['request']:<10} {row['count']:>6} {row['per_second']:>6} "
                         f"{row['p50_ms']!s:>7} {row['p95_ms']!s:>7} {row['p99_ms']!s:>7}  "
                         f"{row['statuses']}")
        return "\n".join(lines)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def run_load(base: str, emails: list[str], questionnaire: JiuQuestionnaire, *,
             seconds: float, think_seconds: float = 0.5, seed: int = 11) -> LoadResult:
    """Sign every user in and open their first page (untimed: every worker then has the
    instrument parsed), then let them all work for ``seconds``."""
    clients = [Client(base).login(email) for email in emails]
    for client in clients:
        client.get(respond_path("page/1"))
    by_type = {name: RequestStats() for name, _weight in MIX}
    lock = threading.Lock()
    start = threading.Barrier(len(clients) + 1)
    names = [name for name, _weight in MIX]
    weights = [weight for _name, weight in MIX]

    def user(number: int) -> None:
        client = clients[number]
        chance = random.Random(seed * 1000 + number)
        response_id = questionnaire.responses[emails[number]]
        start.wait()
        deadline = time.monotonic() + seconds
        sent = 0
        while time.monotonic() < deadline:
            kind = chance.choices(names, weights)[0]
            sent += 1
            began = time.perf_counter()
            if kind == "page view":
                status = client.get(respond_path(f"page/{chance.randint(1, PAGES)}")).status
            elif kind == "autosave":
                slot = chance.choice(questionnaire.text_slots)
                status = client.post_json(respond_path("autosave"), {"slots": {slot: {
                    "value": f"user {number} draft {sent}: " + "words " * chance.randint(1, 60)
                }}}).status
            else:
                label = f"user {number} upload {sent}"
                status = client.post_file(
                    evidence_upload_path(),
                    upload_fields(response_id, chance.choice(questionnaire.stage_items), label),
                    f"upload-{number}-{sent}.pdf", unique_pdf(label), "application/pdf").status
            elapsed_ms = (time.perf_counter() - began) * 1000
            with lock:
                stats = by_type[kind]
                stats.statuses[status] = stats.statuses.get(status, 0) + 1
                if NO_ANSWER < status < 500:
                    stats.latencies_ms.append(elapsed_ms)
            pause = chance.expovariate(1 / think_seconds) if think_seconds else 0.0
            time.sleep(max(0.0, min(pause, deadline - time.monotonic())))

    threads = [threading.Thread(target=user, args=(number,)) for number in range(len(clients))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    return LoadResult(len(clients), time.monotonic() - began, by_type)
