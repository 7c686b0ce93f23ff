"""Load test of the field pages on the production stack, with faults, and an exactly-once check.

Field clients, each with its own signed-in session of a demo worker, do what a
worker's phone does at an outing: start an outing (Start outing page), save
encounters through the quick log (each with its own `client_uuid`; without
JavaScript a saved encounter answers 302, with --htmx as a phone with
JavaScript sends it from the form the page drew as new, answered with the new
entry, its undo and the form's next key), tap the tally and open the
outing page. A request that fails (connection refused or reset, a 5xx) is sent again
with the same body, so the same `client_uuid`, until it is answered or the
retry window ends.

    make prod                                                # in one terminal
    make load                                                # closed loop, 50 clients, 120 s
    make load LOAD_ARGS="--mode open --rate 50 --duration 60"
    make load LOAD_ARGS="--htmx"                             # saves and taps as htmx sends them
    make load LOAD_ARGS="--fault kill-worker@20 --fault reload@40"
    .venv/bin/python benchmarks/load.py --serve --fault kill-worker@5 --fault restart@10 --duration 20

Modes:
- closed (default): every client sends its next request as soon as the last
  one is answered: the throughput the stack holds.
- open: saves arrive at a fixed rate (--rate per second, spread over the
  clients) whatever the answers; a save's latency counts from the moment it
  was due, so a stack falling behind shows in the figures (no coordinated
  omission).

Faults (--fault KIND@SECONDS, repeatable): `kill-worker` SIGKILLs one gunicorn
worker (the master forks another), `reload` sends the master SIGHUP (all
workers replaced gracefully), `restart` stops the server (SIGTERM) and starts
it again (only with --serve, where this script runs the server itself).

Afterwards every encounter a client was told was saved must exist exactly
once (looked up by its `client_uuid` in the database the server uses, so the
script runs with the server's settings: DATABASE_URL, SECRET_KEY, CACHE_URL;
`make load` takes them from scripts/prod), and so must every acknowledged tally
tap. It prints throughput, p50/p95/p99 and errors per request kind and exits
non-zero when an encounter is lost or doubled.

Only loopback addresses are accepted as the target, and the run is bounded:
--duration, then at most --retry-window seconds for the requests in flight.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import ipaddress
import json
import os
import random
import secrets
import signal
import socket
import string
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent

RETRY_STATUSES = {500, 502, 503, 504}


# HTTP ----------------------------------------------------------------------


def ensure_loopback(url: str) -> tuple[str, int]:
    """The host and port of `url`, refusing anything but a loopback address."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise SystemExit(f"Only http://HOST:PORT on loopback is accepted, not {url!r}.")
    port = parts.port or 80
    addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)}
    if not addresses or not all(ipaddress.ip_address(address).is_loopback for address in addresses):
        raise SystemExit(f"{parts.hostname} is not a loopback address: the load test targets this machine only.")
    return parts.hostname, port


class Unanswered(Exception):
    """A request that got no usable answer within the retry window."""


class Browser:
    """One client's keep-alive connection and cookies (session and CSRF)."""

    def __init__(self, host: str, port: int, session_key: str, timeout: float = 30.0, htmx: bool = False) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        # htmx's header on the posts, as the field pages send them with JavaScript on.
        self.htmx = htmx
        self.csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
        self.cookie = f"sessionid={session_key}; csrftoken={self.csrf}"
        self.connection: http.client.HTTPConnection | None = None

    def _send(self, method: str, path: str, body: bytes | None) -> tuple[int, dict[str, str], bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Cookie": self.cookie, "Accept-Language": "en"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.csrf
            if self.htmx:
                headers["HX-Request"] = "true"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except Exception:
            self.close()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, {key.lower(): value for key, value in response.getheaders()}, data

    def request(
        self, method: str, path: str, form: dict[str, Any] | None, *, deadline: float, stats: KindStats
    ) -> tuple[int, dict[str, str], bytes]:
        """Send until answered without a 5xx (the same body each time), or until `deadline`."""
        body = urlencode({"csrfmiddlewaretoken": self.csrf, **form}, doseq=True).encode() if form is not None else None
        pause = 0.05
        while True:
            try:
                status, headers, data = self._send(method, path, body)
            except (OSError, http.client.HTTPException) as error:
                reason = type(error).__name__
            else:
                if status not in RETRY_STATUSES:
                    return status, headers, data
                reason = str(status)
            if time.monotonic() + pause > deadline:
                raise Unanswered(reason)
            stats.retry(reason)
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None


# Statistics ----------------------------------------------------------------


@dataclass
class KindStats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    retries: int = 0
    error_reasons: dict[str, int] = field(default_factory=dict)
    retry_reasons: dict[str, int] = field(default_factory=dict)

    def retry(self, reason: str) -> None:
        self.retries += 1
        self.retry_reasons[reason] = self.retry_reasons.get(reason, 0) + 1

    def error(self, reason: str) -> None:
        self.errors += 1
        self.error_reasons[reason] = self.error_reasons.get(reason, 0) + 1


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Outcome:
    """What the clients saw: latencies per kind, and what they were told was saved."""

    kinds: dict[str, KindStats] = field(default_factory=dict)
    acknowledged: set[str] = field(default_factory=set)
    attempted: set[str] = field(default_factory=set)
    taps_acknowledged: set[str] = field(default_factory=set)
    outings: set[int] = field(default_factory=set)
    faults: list[str] = field(default_factory=list)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def stats(self, kind: str) -> KindStats:
        with self.lock:
            return self.kinds.setdefault(kind, KindStats())


# The field client -------------------------------------------------------------


@dataclass
class Identity:
    session_key: str
    team: int
    sites: list[int]


class FieldClient:
    """One phone: start an outing, then saves, tally taps and page loads in the field's mix."""

    SAVES_PER_OUTING = 30
    TAP_EVERY = 3  # saves
    OPEN_EVERY = 10  # saves

    def __init__(self, browser: Browser, identity: Identity, outcome: Outcome, retry_window: float, seed: int) -> None:
        self.browser, self.identity, self.outcome = browser, identity, outcome
        self.retry_window = retry_window
        self.random = random.Random(seed)
        self.outing: int | None = None
        # Each phone begins at its own point of the mix's cycle (a tap every 3 saves, the outing page
        # every 10, a new outing every 30): begun all at the same point, the 50 clients opened their
        # outing pages in the same second every 10 s and started new outings in the same second
        # every 30 s, a burst no group of phones in the field sends.
        self.saves = self.random.randrange(self.SAVES_PER_OUTING)

    def _timed(self, kind: str, call: Callable[[float], bool], due: float | None = None) -> None:
        stats = self.outcome.stats(kind)
        begin = time.monotonic()
        try:
            ok = call(begin + self.retry_window)
        except Unanswered as error:
            stats.error(f"unanswered ({error})")
            return
        if ok:
            stats.latencies.append(time.monotonic() - (due if due is not None else begin))
        else:
            stats.error("unexpected answer")

    def start_outing(self) -> None:
        def call(deadline: float) -> bool:
            site = self.random.choice(self.identity.sites)
            status, headers, _ = self.browser.request(
                "POST",
                "/field/outings/start/",
                {"team": self.identity.team, "site": site},
                deadline=deadline,
                stats=self.outcome.stats("start outing"),
            )
            location = headers.get("location", "")
            if status != 302 or "/field/outings/" not in location:
                return False
            self.outing = int(location.rstrip("/").rsplit("/", 1)[1])
            with self.outcome.lock:
                self.outcome.outings.add(self.outing)
            return True

        self._timed("start outing", call)

    def save(self, due: float | None = None) -> None:
        if self.outing is None:
            return
        client_uuid = str(uuid.uuid4())
        form = {
            "client_uuid": client_uuid,
            "depth": self.random.choice(["brief", "conversation"]),
            "gender": self.random.choice(["female", "male", "other", "unknown"]),
            "age_group": self.random.choice(["18_29", "30_39", "40_49", "50_64"]),
            "contact_kind": "field",
            "needs": self.random.sample(["housing", "livelihood", "mental_health", "substance_use"], 2),
            "person": "",
            "referral_service_kind": "",
            "referral_status": "suggested",
        }
        if self.browser.htmx:
            # The page's form drawn as new says so: the answer leaves clearing it to the browser.
            form["quick_log_fresh"] = "1"
        with self.outcome.lock:
            self.outcome.attempted.add(client_uuid)

        def call(deadline: float) -> bool:
            status, headers, body = self.browser.request(
                "POST",
                f"/field/outings/{self.outing}/encounters/",
                form,
                deadline=deadline,
                stats=self.outcome.stats("save encounter"),
            )
            # Saved: redirected back to the outing's log, or with htmx the undo
            # of the new entry. Otherwise the form again, with an error.
            if self.browser.htmx:
                saved = status == 200 and b"data-undo-seconds" in body
            else:
                saved = status == 302 and f"/field/outings/{self.outing}/" in headers.get("location", "")
            if saved:
                with self.outcome.lock:
                    self.outcome.acknowledged.add(client_uuid)
                return True
            return False

        self._timed("save encounter", call, due)
        self.saves += 1

    def tap(self) -> None:
        client_uuid = str(uuid.uuid4())

        def call(deadline: float) -> bool:
            status, _, _ = self.browser.request(
                "POST",
                f"/field/outings/{self.outing}/tally/",
                {"delta": "1", "client_uuid": client_uuid},
                deadline=deadline,
                stats=self.outcome.stats("tally tap"),
            )
            if status == (200 if self.browser.htmx else 302):
                with self.outcome.lock:
                    self.outcome.taps_acknowledged.add(client_uuid)
                return True
            return False

        self._timed("tally tap", call)

    def open_outing(self) -> None:
        def call(deadline: float) -> bool:
            status, _, body = self.browser.request(
                "GET",
                f"/field/outings/{self.outing}/",
                None,
                deadline=deadline,
                stats=self.outcome.stats("outing page"),
            )
            return status == 200 and b'id="log"' in body

        self._timed("outing page", call)

    def after_save(self) -> None:
        """The rest of the field's mix, after each save."""
        if self.saves % self.TAP_EVERY == 0:
            self.tap()
        if self.saves % self.OPEN_EVERY == 0:
            self.open_outing()
        if self.saves % self.SAVES_PER_OUTING == 0:
            self.start_outing()

    def run_closed(self, stop: float) -> None:
        self.start_outing()
        while time.monotonic() < stop:
            self.save()
            self.after_save()

    def run_open(self, stop: float, first_due: float, interval: float) -> None:
        # The outing is started a second before the first save is due: the starts are spread as the saves.
        pause = first_due - 1.0 - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self.start_outing()
        due = first_due
        while due < stop:
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self.save(due)
            self.after_save()
            due += interval


# The server (with --serve) and faults -------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """gunicorn with the production settings, run by this process (for `restart` and the CI test)."""

    def __init__(self, port: int, env: dict[str, str], pidfile: Path, log: Path, workers: int = 2) -> None:
        self.port, self.pidfile, self.log_path = port, pidfile, log
        self.env = {**env, "HOST": "127.0.0.1", "PORT": str(port), "GUNICORN_PIDFILE": str(pidfile)}
        self.env["WEB_CONCURRENCY"] = str(workers)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "config/gunicorn.conf.py"), "config.wsgi"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}: see {self.log_path}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz/")
                if connection.getresponse().status == 200 and len(worker_pids(self.process.pid)) > 0:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s: see {self.log_path}")

    @property
    def master_pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def restart(self) -> None:
        self.stop()
        self.start()


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: the master's children."""
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{master}/task").iterdir():
            children += [int(pid) for pid in (task / "children").read_text().split()]
    return children


def master_from(pidfile: str | None, server: Server | None) -> int:
    if server is not None:
        return server.master_pid
    if not pidfile:
        raise SystemExit("A fault needs the server's pid: --pidfile (make load passes it) or --serve.")
    return int(Path(pidfile).read_text().strip())


def inject(kind: str, *, pidfile: str | None, server: Server | None) -> str:
    """Do one fault now and say what was done."""
    master = master_from(pidfile, server)
    if kind == "kill-worker":
        workers = worker_pids(master)
        if not workers:
            return "kill-worker: no worker found"
        victim = random.choice(workers)
        os.kill(victim, signal.SIGKILL)
        return f"kill-worker: SIGKILL to worker {victim}"
    if kind == "reload":
        os.kill(master, signal.SIGHUP)
        return f"reload: SIGHUP to master {master}"
    if kind == "restart":
        if server is None:
            raise SystemExit("restart needs --serve (this script must be able to start the server again).")
        begin = time.monotonic()
        server.restart()
        return f"restart: server stopped and started again in {time.monotonic() - begin:.1f} s"
    raise SystemExit(f"Unknown fault {kind!r}: kill-worker, reload or restart.")


def parse_fault(text: str) -> tuple[str, float]:
    kind, _, at = text.partition("@")
    if kind not in {"kill-worker", "reload", "restart"} or not at:
        raise argparse.ArgumentTypeError("KIND@SECONDS, KIND one of kill-worker, reload, restart")
    return kind, float(at)


# Setting up and checking (through Django, with the server's settings) ----------------


def identities(count: int) -> list[Identity]:
    """Signed-in sessions of the demo workers (one per client), made as a sign-in would make them."""
    from django.test import Client

    from outreach.models import FieldSite, User
    from outreach.vocabulary import Role

    workers = [
        user
        for user in User.objects.filter(role=Role.WORKER, is_active=True).order_by("pk").prefetch_related("teams")
        if len(user.teams.all()) == 1
    ]
    if not workers:
        raise SystemExit("No worker with a team in the database: load the demo data (seed_demo) first.")
    sites = {
        team.pk: list(FieldSite.objects.filter(team=team, active=True).values_list("pk", flat=True))
        for team in {worker.teams.all()[0] for worker in workers}
    }
    result = []
    for index in range(count):
        worker = workers[index % len(workers)]
        team = worker.teams.all()[0]
        if not sites[team.pk]:
            continue
        client = Client()
        client.force_login(worker)
        result.append(Identity(client.cookies["sessionid"].value, team.pk, sites[team.pk]))
    if not result:
        raise SystemExit("The demo workers' teams have no active sites.")
    return result


@dataclass
class Check:
    acknowledged: int
    lost: int
    doubled: int
    unacknowledged_saved: int
    taps_acknowledged: int
    taps_lost: int

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.doubled == 0 and self.taps_lost == 0


def check_exactly_once(outcome: Outcome) -> Check:
    """Every acknowledged encounter and tally tap is in the database exactly once."""
    from django.db.models import Count

    from encounters.models import Encounter
    from outreach.models import TallyEvent

    def stored(model: Any, uuids: set[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        ordered = sorted(uuids)
        for start in range(0, len(ordered), 5000):
            rows = (
                model.objects.filter(client_uuid__in=ordered[start : start + 5000])
                .values("client_uuid")
                .annotate(n=Count("id"))
                .values_list("client_uuid", "n")
            )
            counts.update({str(key): n for key, n in rows})
        return counts

    encounters = stored(Encounter, outcome.attempted)
    # All of the load's encounters, whatever their UUID: a second row for one
    # save would carry another UUID or none.
    at_outings = Encounter.objects.filter(outing_id__in=outcome.outings).count()
    doubled = sum(n - 1 for n in encounters.values() if n > 1) + max(0, at_outings - sum(encounters.values()))
    taps = stored(TallyEvent, outcome.taps_acknowledged)
    return Check(
        acknowledged=len(outcome.acknowledged),
        lost=sum(1 for key in outcome.acknowledged if key not in encounters),
        doubled=doubled,
        unacknowledged_saved=sum(1 for key in outcome.attempted - outcome.acknowledged if key in encounters),
        taps_acknowledged=len(outcome.taps_acknowledged),
        taps_lost=sum(1 for key in outcome.taps_acknowledged if key not in taps),
    )


# Running -------------------------------------------------------------------


def run_load(
    *,
    url: str,
    clients: list[Identity],
    duration: float,
    mode: str = "closed",
    rate: float = 50.0,
    retry_window: float = 30.0,
    faults: list[tuple[str, float]] | None = None,
    pidfile: str | None = None,
    server: Server | None = None,
    htmx: bool = False,
) -> Outcome:
    host, port = ensure_loopback(url)
    outcome = Outcome()
    begin = time.monotonic()
    stop = begin + duration
    threads = []
    for index, identity in enumerate(clients):
        browser = Browser(host, port, identity.session_key, htmx=htmx)
        client = FieldClient(browser, identity, outcome, retry_window, seed=index)
        if mode == "closed":
            target: Callable[[], None] = lambda client=client: client.run_closed(stop)  # noqa: E731
        else:
            interval = len(clients) / rate
            first = begin + 1.0 + index * interval / len(clients)
            target = lambda client=client, first=first, interval=interval: client.run_open(stop, first, interval)  # noqa: E731
        threads.append(threading.Thread(target=target, daemon=True, name=f"client-{index}"))

    def fault_plan() -> None:
        for kind, at in sorted(faults or [], key=lambda item: item[1]):
            pause = begin + at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            text = inject(kind, pidfile=pidfile, server=server)
            outcome.faults.append(f"{time.monotonic() - begin:5.1f} s  {text}")

    injector = threading.Thread(target=fault_plan, daemon=True, name="faults")
    for thread in threads:
        thread.start()
    injector.start()
    # Bounded: the clients stop sending at `stop` and give up on a request
    # after the retry window.
    hard_stop = stop + retry_window + 5
    for thread in [*threads, injector]:
        thread.join(max(0.0, hard_stop - time.monotonic()))
    outcome.seconds = time.monotonic() - begin
    return outcome


def table(outcome: Outcome, check: Check | None) -> str:
    lines = [
        f"{'request':<16}{'count':>8}{'per s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'errors':>8}{'retries':>9}"
    ]
    for kind in ("save encounter", "tally tap", "outing page", "start outing"):
        stats = outcome.kinds.get(kind)
        if stats is None:
            continue
        ms = [value * 1000 for value in stats.latencies]
        lines.append(
            f"{kind:<16}{len(ms):>8}{len(ms) / outcome.seconds:>9.1f}{percentile(ms, 0.5):>9.1f}"
            f"{percentile(ms, 0.95):>9.1f}{percentile(ms, 0.99):>9.1f}{max(ms, default=float('nan')):>9.1f}"
            f"{stats.errors:>8}{stats.retries:>9}"
        )
        for reason, count in sorted(stats.error_reasons.items()):
            lines.append(f"{'':<16}  error: {reason}: {count}")
        for reason, count in sorted(stats.retry_reasons.items()):
            lines.append(f"{'':<16}  sent again after: {reason}: {count}")
    for fault in outcome.faults:
        lines.append(f"fault at {fault}")
    if check is not None:
        lines.append(
            f"encounters acknowledged {check.acknowledged}, lost {check.lost}, doubled {check.doubled}"
            f" (saved without an answer the client saw: {check.unacknowledged_saved});"
            f" tally taps acknowledged {check.taps_acknowledged}, lost {check.taps_lost}"
        )
    return "\n".join(lines)


def summary(outcome: Outcome, check: Check) -> dict[str, Any]:
    kinds = {}
    for kind, stats in outcome.kinds.items():
        ms = [value * 1000 for value in stats.latencies]
        kinds[kind] = {
            "count": len(ms),
            "per_second": round(len(ms) / outcome.seconds, 2),
            "p50_ms": round(percentile(ms, 0.5), 1),
            "p95_ms": round(percentile(ms, 0.95), 1),
            "p99_ms": round(percentile(ms, 0.99), 1),
            "errors": stats.errors,
            "retries": stats.retries,
        }
    return {"seconds": round(outcome.seconds, 1), "kinds": kinds, "faults": outcome.faults, "check": vars(check)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="The stack (loopback only; default http://127.0.0.1:$PORT, PORT 8080).")
    parser.add_argument("--mode", choices=["closed", "open"], default="closed")
    parser.add_argument("--clients", type=int, default=50, help="Field clients (default %(default)s).")
    parser.add_argument("--rate", type=float, default=50.0, help="Open loop: saves per second (default %(default)s).")
    parser.add_argument("--duration", type=float, default=120.0, help="Seconds of load (default %(default)s).")
    parser.add_argument("--retry-window", type=float, default=30.0, help="Seconds a request is retried at most.")
    parser.add_argument("--fault", type=parse_fault, action="append", default=[], metavar="KIND@SECONDS")
    parser.add_argument("--pidfile", help="The gunicorn master's pidfile (for faults).")
    parser.add_argument("--serve", action="store_true", help="Start gunicorn (production settings) on a free port.")
    parser.add_argument("--workers", type=int, default=4, help="With --serve: gunicorn workers (default %(default)s).")
    parser.add_argument("--json", help="Also write the figures to this file.")
    parser.add_argument(
        "--htmx",
        action="store_true",
        help="Save and tap as the pages do with JavaScript (htmx's header; the answers are parts of the page).",
    )
    return parser.parse_args(argv)


@contextlib.contextmanager
def maybe_server(args: argparse.Namespace) -> Iterator[Server | None]:
    if not args.serve:
        yield None
        return
    work = ROOT / ".prod"
    work.mkdir(exist_ok=True)
    server = Server(free_port(), dict(os.environ), work / "load-gunicorn.pid", work / "load-gunicorn.log", args.workers)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    with maybe_server(args) as server:
        url = args.url or f"http://127.0.0.1:{server.port if server else os.environ.get('PORT', '8080')}"
        ensure_loopback(url)
        clients = identities(args.clients)
        connection.close()
        print(
            f"{args.mode} loop, {len(clients)} clients, {args.duration:.0f} s"
            + (f", {args.rate:g} saves/s" if args.mode == "open" else "")
            + (", htmx" if args.htmx else "")
            + f", against {url} ({connection.settings_dict['NAME']})",
            flush=True,
        )
        outcome = run_load(
            url=url,
            clients=clients,
            duration=args.duration,
            mode=args.mode,
            rate=args.rate,
            retry_window=args.retry_window,
            faults=args.fault,
            pidfile=args.pidfile,
            server=server,
            htmx=args.htmx,
        )
    check = check_exactly_once(outcome)
    print(table(outcome, check))
    if args.json:
        Path(args.json).write_text(json.dumps(summary(outcome, check), indent=2))
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
