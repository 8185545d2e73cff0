"""A real instance served by gunicorn on 127.0.0.1, and clients that use it as a browser does.

Used by the web benchmark, the load test (``bench/soak.py``) and the fault and two-process
tests (``tests/ops``). An instance is a temporary folder with its own ``config.py`` (a
random SECRET_KEY), its database (the SQLite file inside it, or the PostgreSQL database
given), ``surveyapp init`` and ``surveyapp demo``, and optionally more focal points on the
demo JIU cycle, each with a response of their own. gunicorn serves it on a free loopback
port in its own process group, so that the whole server (master and workers) can be
stopped, or killed with SIGKILL, at once. Clients are stdlib ``urllib`` with a cookie jar
each; they sign in through the login form and send the CSRF token as the pages do.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "demo-password"
#: The demo's JIU self-assessment cycle, its focal point and the questionnaire they answer.
JIU_CYCLE = 2
JIU_QUESTIONNAIRE = "self_assessment"
DEMO_FOCAL_POINT = "focal.undp@example.org"
LOGIN = "/auth/login"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|'
                  r'<meta name="csrf-token" content="([^"]+)"')
#: Requests that get no answer at all (the server is gone) report this status.
NO_ANSWER = 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def extra_focal_points(count: int) -> list[str]:
    return [f"load.focal{number:03d}@example.org" for number in range(1, count + 1)]


@dataclass
class Instance:
    """A temporary instance folder; ``database_url`` None means its own SQLite file."""

    folder: Path
    database_url: str | None = None

    @property
    def env(self) -> dict[str, str]:
        env = {**os.environ, "SURVEYAPP_INSTANCE_PATH": str(self.folder)}
        env.pop("SURVEYAPP_DATABASE_URL", None)
        if self.database_url:
            env["SURVEYAPP_DATABASE_URL"] = self.database_url
        return env

    def surveyapp(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the ``surveyapp`` command on this instance."""
        done = subprocess.run([str(BIN / "surveyapp"), *arguments], env=self.env,
                              capture_output=True, text=True, check=False)
        if check and done.returncode:
            raise RuntimeError(f"surveyapp {' '.join(arguments)} failed: "
                               f"{done.stdout}{done.stderr}".strip())
        return done

    def prepare(self, focal_points: int = 0) -> list[str]:
        """Create the instance with the demo data; return the JIU cycle's focal points."""
        from surveyapp.extensions import db

        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "config.py").write_text(f"SECRET_KEY = {secrets.token_hex(32)!r}\n")
        app = self.app()
        runner = app.test_cli_runner()  # the commands themselves, without a new interpreter
        for command in ("init", "demo"):
            result = runner.invoke(args=[command])
            if result.exit_code:
                raise RuntimeError(f"surveyapp {command} failed: {result.output}")
        extra = extra_focal_points(focal_points)
        if extra:
            self._add_focal_points(app, extra)
        with app.app_context():  # close this process's connections before the server starts
            db.engine.dispose()
        return [DEMO_FOCAL_POINT, *extra]

    def app(self) -> Any:
        """The app of this instance, in this process (for set-up and for reading results)."""
        from surveyapp import create_app

        settings = {"INSTANCE_PATH": str(self.folder)}
        if self.database_url:
            settings["DATABASE_URL"] = self.database_url
        return create_app(settings)

    def _add_focal_points(self, app: Any, emails: list[str]) -> None:
        from surveyapp.extensions import db
        from surveyapp.models import Cycle, ParticipantRole, Role
        from surveyapp.services.audit import Actor
        from surveyapp.services.cycles import add_participant
        from surveyapp.services.units import grant_role
        from surveyapp.services.users import create_user, find_user_by_email

        with app.app_context():
            cycle = db.session.get_one(Cycle, JIU_CYCLE)
            owner = find_user_by_email("admin@example.org")
            assert owner is not None, "surveyapp demo makes admin@example.org"
            for number, email in enumerate(emails, start=1):
                user = create_user(email, f"Load test focal point {number}", PASSWORD)
                grant_role(user, cycle.unit, Role.focal_point)
                add_participant(cycle, user, ParticipantRole.focal_point, Actor.of(owner))
            db.session.commit()


@dataclass
class Server:
    """A running gunicorn; ``base`` is its address."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def kill(self) -> None:
        """SIGKILL the master and every worker at once, as a crash or the OOM killer would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


@contextmanager
def serve(instance: Instance, *, workers: int = 2, threads: int = 4, port: int | None = None,
          name: str = "gunicorn") -> Iterator[Server]:
    """gunicorn serving ``instance`` on 127.0.0.1; stopped on leaving, whatever happens."""
    port = port or free_port()
    log = instance.folder / f"{name}-{port}.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", str(workers), "--threads", str(threads),
             "-b", f"127.0.0.1:{port}", "surveyapp:create_app()"],
            env=instance.env, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT,
            start_new_session=True)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(server.base + LOGIN, timeout=5).read()
                break
            except OSError:  # refused, reset or timed out while the workers import the app
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start: see {log}") from None
                time.sleep(0.2)
        yield server
    finally:
        server.stop()


def csrf_in(html: str) -> str:
    found = CSRF.search(html)
    if found is None:
        raise RuntimeError("no CSRF token in the page")
    return found.group(1) or found.group(2)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None  # a 3xx is the answer: the caller decides whether to follow it


@dataclass
class Answer:
    status: int
    body: str = ""
    location: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Client:
    """One browser: its own cookie jar and CSRF token, signed in as one user."""

    def __init__(self, base: str, cookies: http.cookiejar.CookieJar | None = None) -> None:
        self.base = base
        self.cookies = cookies if cookies is not None else http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())
        self.csrf = ""

    def on(self, base: str) -> Client:
        """Another tab of the same browser (same session), sent to another server."""
        tab = Client(base, self.cookies)
        tab.csrf = self.csrf
        return tab

    def login(self, email: str, password: str = PASSWORD) -> Client:
        self.csrf = csrf_in(self.get(LOGIN).body)
        done = self.post_form(LOGIN, {"email": email, "password": password})
        if done.status != 302 or LOGIN in (done.location or ""):
            raise RuntimeError(f"signing in as {email} failed ({done.status})")
        self.get("/")  # signing in starts a new session, with a new CSRF token
        return self

    def get(self, path: str) -> Answer:
        answer = self._send(urllib.request.Request(self.base + path))
        if answer.status == 200 and "csrf-token" in answer.body:
            self.csrf = csrf_in(answer.body)
        return answer

    def post_form(self, path: str, fields: dict[str, str]) -> Answer:
        body = urllib.parse.urlencode({"csrf_token": self.csrf, **fields}).encode()
        return self._send(urllib.request.Request(self.base + path, data=body, method="POST"))

    def post_json(self, path: str, payload: object) -> Answer:
        return self._send(urllib.request.Request(
            self.base + path, data=json.dumps(payload).encode(), method="POST",
            headers={"Content-Type": "application/json", "X-CSRFToken": self.csrf}))

    def post_file(self, path: str, fields: dict[str, str], name: str, data: bytes,
                  media_type: str = "application/octet-stream") -> Answer:
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
                 f"{value}\r\n".encode() for key, value in
                 {"csrf_token": self.csrf, **fields}.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                     f'filename="{name}"\r\nContent-Type: {media_type}\r\n\r\n'.encode()
                     + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self._send(urllib.request.Request(
            self.base + path, data=b"".join(parts), method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}))

    def _send(self, request: urllib.request.Request) -> Answer:
        try:
            with self.opener.open(request, timeout=60) as answer:
                return Answer(answer.status, answer.read().decode(errors="replace"),
                              answer.headers.get("Location"), dict(answer.headers))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode(errors="replace"),
                          error.headers.get("Location"), dict(error.headers))
        except (OSError, http.client.HTTPException):  # refused, reset: no answer at all
            return Answer(NO_ANSWER)


# --- The JIU questionnaire of the demo, as a focal point's browser uses it ----------------------


@dataclass(frozen=True)
class JiuQuestionnaire:
    """What the clients need to know of the demo JIU cycle, read once from the database."""

    #: email -> the id of that focal point's response
    responses: dict[str, int]
    #: slot keys of free-text questions, and item ids of stage questions (for evidence)
    text_slots: list[str]
    stage_items: list[str]


def jiu_questionnaire(instance: Instance) -> JiuQuestionnaire:
    from sqlalchemy import select

    from surveyapp.extensions import db
    from surveyapp.models import Response
    from surveyapp.services.answers import layout_for

    app = instance.app()
    with app.app_context():
        responses = list(db.session.scalars(select(Response).where(
            Response.cycle_id == JIU_CYCLE, Response.questionnaire == JIU_QUESTIONNAIRE)))
        layout = layout_for(responses[0])
        found = JiuQuestionnaire(
            responses={r.respondent.email: r.id for r in responses if r.respondent},
            text_slots=[slot.key for slot in layout.slots if slot.question.type == "text"],
            stage_items=[slot.item_id for slot in layout.slots
                         if slot.question.type == "stage"])
        db.engine.dispose()
    return found


def respond_path(what: str) -> str:
    return f"/cycles/{JIU_CYCLE}/respond/{JIU_QUESTIONNAIRE}/{what}"


def upload_fields(response_id: int, item_id: str, description: str) -> dict[str, str]:
    return {"response_id": str(response_id), "item_id": item_id, "framework_node": "",
            "description": description, "document_date": "2025-06-30"}


def evidence_upload_path() -> str:
    return f"/cycles/{JIU_CYCLE}/evidence/upload"


def unique_pdf(label: str) -> bytes:
    """A small PDF of its own content, so that every upload stores a new file."""
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n% " + label.encode()
            + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n")
