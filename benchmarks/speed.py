"""`make bench`: the hot read paths against a bare baseline, side by side in one run.

Seeds one PostgreSQL database once (100,000 channels as in `bench_catalogue`, 50,000 campaigns
as in `bench_campaigns`), starts the bare baseline (`benchmarks/baseline.py`) and
`chainfluence api` the same way (one uvicorn process each, uvloop and httptools), then drives
every endpoint with wrk (a C load generator; installed with apt-get when missing): a warm-up,
then the measured run. It prints one table: req/s, p50, p99, errors, the ratio to its baseline,
the goal and whether it is met, then the API's resident memory and the load average.

The machine is shared, so absolute figures move from run to run: the ratios, measured minutes
apart in the same run, are what the goals are about.

`--cpu` measures what a request costs instead of how many fit in a second: the CPU time (user +
system, from /proc) the server process spent during the measured run divided by the requests
wrk completed, and the same for the PostgreSQL backends serving its database. On a busy machine
req/s and latencies follow the other processes' load; CPU time per request barely does. The
ratio column is then baseline CPU per request / ours (the share of the bare stack's throughput
a saturated core would give us, comparable to the req/s goals).

    python -m benchmarks.speed [--duration 8] [--connections 64] [--only healthz,...] [--cpu]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import insert, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks import bench_campaigns, bench_catalogue
from benchmarks.bench_auth import _init_data
from benchmarks.harness import (
    BENCH_BOT_TOKEN,
    BENCH_JWT_SECRET,
    _free_port,
    postgres_database,
)
from chainfluence.kit.db import create_engine
from chainfluence.models import Notification, NotificationType, PushStatus, RelatedType

REDIS_URL = os.environ.get("CHAINFLUENCE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
LOGIN_USERS = 200


@dataclass(frozen=True)
class Case:
    """One endpoint to drive; `baseline` names the case its ratio is taken against."""

    name: str
    path: str
    server: str  # "baseline" or "api"
    baseline: str | None = None
    goal: float | None = None
    p99_ms: float | None = None
    auth: bool = False
    user: int = 1  # whose token an `auth` case sends
    login: bool = False
    # The thinner rows-only baseline, whose ratio is printed for comparison (not a goal).
    rows_only: str | None = None


def _q(path: str, params: dict[str, str]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


CATALOGUE = "/v1/channels"
CAMPAIGNS = "/v1/campaigns"
CAT_ROWS, CAMP_ROWS = "base: catalogue rows only", "base: campaigns rows only"
CASES = [
    Case("base: constant JSON", "/const", "baseline"),
    Case("base: one users row by id", "/users/1", "baseline"),
    Case("base: catalogue page",
         _q("/channels", {"category": "crypto", "min_subscribers": "20000"}), "baseline"),
    Case("base: campaigns page", "/campaigns", "baseline"),
    # The thinner baseline of earlier runs (the pages' rows only: no prices, no counts), for
    # comparison; the goals are ratios to the pages above, which run the API's own SQL.
    Case(CAT_ROWS,
         _q("/channels/rows", {"category": "crypto", "min_subscribers": "20000"}), "baseline"),
    Case(CAMP_ROWS, "/campaigns/rows", "baseline"),
    Case("GET /healthz", "/healthz", "api", "base: constant JSON", 0.7),
    Case("GET /v1/users/me", "/v1/users/me", "api", "base: one users row by id", 0.5, auth=True),
    Case("POST /v1/auth/login", "/v1/auth/login", "api", "base: one users row by id", 0.3,
         login=True),
    Case("catalogue default", CATALOGUE, "api", "base: catalogue page", 0.35, 100,
         rows_only=CAT_ROWS),
    Case("catalogue category+minSubscribers",
         _q(CATALOGUE, {"category": "crypto", "minSubscribers": "20000", "sort": "-subscribers"}),
         "api", "base: catalogue page", 0.35, 100, rows_only=CAT_ROWS),
    Case("catalogue q=market", _q(CATALOGUE, {"q": "market"}), "api", "base: catalogue page",
         0.35, 100, rows_only=CAT_ROWS),
    Case("catalogue format 1/24 price 5..50 sort cpm",
         _q(CATALOGUE, {"format": "1/24", "minPrice": "5", "maxPrice": "50", "sort": "cpm"}),
         "api", "base: catalogue page", 0.25, 150, rows_only=CAT_ROWS),
    Case("campaigns default (Mini App)", CAMPAIGNS, "api", "base: campaigns page", 0.35, 100,
         rows_only=CAMP_ROWS),
    Case("campaigns category=crypto sort=-budget",
         _q(CAMPAIGNS, {"category": "crypto", "sort": "-budget"}), "api", "base: campaigns page",
         0.35, 100, rows_only=CAMP_ROWS),
    Case("campaigns format=2/48 minBudget=50",
         _q(CAMPAIGNS, {"format": "2/48", "minBudget": "50", "sort": "-budget"}), "api",
         "base: campaigns page", 0.35, 100, rows_only=CAMP_ROWS),
    Case("campaigns q=airdrop", _q(CAMPAIGNS, {"q": "airdrop"}), "api", "base: campaigns page",
         0.35, 100, rows_only=CAMP_ROWS),
]  # fmt: skip

# A caller's own lists, as the Mini App opens them: not in the default table, run by naming
# them with --only (e.g. --only mine:). Their callers are seeded users: an advertiser of
# `bench_campaigns` with 27 campaigns, the owner of one of its channels, and the bench user (1),
# who owns every catalogue channel, for a channel's matching campaigns (its first, two prices).
MY_CAMPAIGNS_USER = 5_000_001
MY_CHANNEL_USER = 5_000_000 + bench_campaigns.ADVERTISERS
MATCHED_CHANNEL = -1_001_000_000_000
INBOX = 60  # the channel owner's notifications (a full first page)
MY_NEWEST_DEAL = 4805  # the channel owner's newest deal (live) as bench_campaigns seeds them
EXTRA_CASES = [
    Case("mine: GET /v1/campaigns/mine (27)", "/v1/campaigns/mine", "api", auth=True,
         user=MY_CAMPAIGNS_USER),
    Case("mine: GET /v1/campaigns/mine limit=20 (counted)",
         _q("/v1/campaigns/mine", {"limit": "20"}), "api", auth=True, user=MY_CAMPAIGNS_USER),
    Case("mine: GET /v1/channels/mine (1)", "/v1/channels/mine", "api", auth=True,
         user=MY_CHANNEL_USER),
    Case("mine: GET /v1/channels/{id}/matching-campaigns",
         f"/v1/channels/{MATCHED_CHANNEL}/matching-campaigns", "api", auth=True),
    # Not moved to DirectRead (yet): measured for comparison.
    Case("mine: GET /v1/offers/mine (publisher)", "/v1/offers/mine", "api", auth=True,
         user=MY_CHANNEL_USER),
    Case("mine: GET /v1/deals (publisher)", "/v1/deals", "api", auth=True, user=MY_CHANNEL_USER),
    Case("mine: GET /v1/deals/{id} (publisher)", f"/v1/deals/{MY_NEWEST_DEAL}", "api", auth=True,
         user=MY_CHANNEL_USER),
    Case("mine: GET /v1/notifications (60)", "/v1/notifications", "api", auth=True,
         user=MY_CHANNEL_USER),
]  # fmt: skip


@dataclass
class Result:
    case: Case
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0
    server_cpu_us: float = float("nan")  # CPU time of the server process per request
    db_cpu_us: float = float("nan")  # CPU time of its PostgreSQL backends per request
    notes: list[str] = field(default_factory=list)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> tuple[float, float, float, int]:
    """(req/s, p50 ms, p99 ms, errors) from `wrk --latency`'s report.

    Errors are non-2xx/3xx responses plus socket errors (connect, read, write, timeout).
    """
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in match.groups())
    return rps, p50, p99, errors


def parse_requests(output: str) -> int:
    """How many requests wrk completed (`12345 requests in 8.00s, ...`)."""
    return int(re.search(r"(\d+) requests in ", output).group(1))  # type: ignore[union-attr]


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 once it has gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name (field 2) may hold spaces; the fields after it are fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


_BACKEND_TITLE = re.compile(r"postgres: (?:\S+: )?(\S+) (\S+) ")


def backend_pids(database: str) -> list[int]:
    """The PostgreSQL backends connected to `database` (their title: `postgres: [CLUSTER: ]USER
    DATABASE HOST(PORT) STATE`)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        match = _BACKEND_TITLE.match(title)
        if match and match.group(2) == database:
            pids.append(int(entry.name))
    return pids


def cpu_snapshot(server_pid: int, database: str) -> tuple[float, dict[int, float]]:
    return cpu_seconds(server_pid), {pid: cpu_seconds(pid) for pid in backend_pids(database)}


def cpu_spent(
    before: tuple[float, dict[int, float]], after: tuple[float, dict[int, float]]
) -> tuple[float, float]:
    """(server, database backends) CPU seconds between two snapshots; a backend that appeared
    in between counts from zero."""
    db = sum(cpu - before[1].get(pid, 0.0) for pid, cpu in after[1].items())
    return after[0] - before[0], db


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing the Debian package", flush=True)
    apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "apt-get"]
    subprocess.run([*apt, "update", "-qq"], check=True)
    subprocess.run([*apt, "install", "-y", "-qq", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed; install it and run again")
    return found


def _lua_headers(headers: dict[str, str]) -> str:
    return "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items())


def login_script(directory: Path) -> Path:
    """A wrk script that posts freshly signed initData for `LOGIN_USERS` users in turn."""
    bodies = [json.dumps({"initData": _init_data(2_000_000 + i)}) for i in range(LOGIN_USERS)]
    script = directory / "login.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        + _lua_headers({"Content-Type": "application/json"})
        + "local bodies = {"
        + ",".join(json.dumps(body) for body in bodies)
        + "}\nlocal n = 0\n"
        "request = function()\n  n = n + 1\n"
        "  return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])\nend\n"
    )
    return script


def header_script(directory: Path, headers: dict[str, str], user: int) -> Path:
    script = directory / f"headers_{user}.lua"
    script.write_text(_lua_headers(headers))
    return script


def run_wrk(
    wrk: str, url: str, *, seconds: float, connections: int, script: Path | None
) -> subprocess.CompletedProcess[str]:
    command = [wrk, "-t2", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "2s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    return subprocess.run([*command, url], capture_output=True, text=True, check=True)


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    """Until /readyz answers 200 (start-up imports take a while on a busy machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"the server exited during start-up:\n{stderr}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/readyz", timeout=2) as response,  # noqa: S310
        ):
            if response.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not become ready in {timeout:.0f} s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _post_json(url: str, payload: object) -> dict[str, object]:
    request = urllib.request.Request(  # noqa: S310
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        result: dict[str, object] = json.loads(response.read())
        return result


async def seed(database_url: str) -> None:
    started = time.perf_counter()
    await bench_catalogue.seed(database_url)
    engine = create_engine(database_url)
    try:
        await bench_campaigns.seed(engine)
        await seed_notifications(engine)
    finally:
        await engine.dispose()
    print(f"seeded 100,000 channels and 50,000 campaigns in {time.perf_counter() - started:.0f} s")


async def seed_notifications(engine: AsyncEngine) -> None:
    """`INBOX` notifications for the channel owner of the --only mine: cases, a third read."""
    now = datetime.datetime.now(datetime.UTC)
    rows = [
        {"user_id": MY_CHANNEL_USER, "type": NotificationType.booking_request,
         "title": f"New offer {i}", "body": f"An advertiser offers {i} TON for a 2/48 post.",
         "related_type": RelatedType.offer, "related_id": i,
         "read_at": now if i % 3 == 0 else None, "push_status": PushStatus.sent,
         "push_attempts": 1, "created_at": now}
        for i in range(INBOX)
    ]  # fmt: skip
    async with engine.begin() as conn:
        await conn.execute(insert(Notification), rows)


def measure(
    cases: list[Case], database_url: str, *, seconds: float, warmup: float, connections: int
) -> tuple[list[Result], float]:
    database = make_url(database_url).database or ""
    wrk = ensure_wrk()
    env = {
        **os.environ,
        "CHAINFLUENCE_DATABASE__URL": database_url,
        "CHAINFLUENCE_REDIS__URL": REDIS_URL,
        "CHAINFLUENCE_TELEGRAM__BOT_TOKEN": BENCH_BOT_TOKEN,
        "CHAINFLUENCE_AUTH__JWT_SECRET": BENCH_JWT_SECRET,
        "CHAINFLUENCE_RATE_LIMIT__ENABLED": "false",  # limits would turn this into a 429 test
        "CHAINFLUENCE_LOG_LEVEL": "WARNING",
        "CHAINFLUENCE_DATABASE__POOL_SIZE": "20",
    }
    results: list[Result] = []
    rss = float("nan")
    base_port, api_port = _free_port(), _free_port()
    servers = {
        "baseline": (
            [sys.executable, "-m", "uvicorn", "benchmarks.baseline:app", "--port", str(base_port),
             "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level",
             "warning"],
            base_port,
        ),
        "api": (
            [sys.executable, "-m", "chainfluence.cli", "api", "--port", str(api_port)],
            api_port,
        ),
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for name, (command, port) in servers.items():
            mine = [case for case in cases if case.server == name]
            if not mine:
                continue
            with server(command, env, port) as process:
                base = f"http://127.0.0.1:{port}"
                token_scripts = {}
                for user in sorted({case.user for case in mine if case.auth}):
                    login = _post_json(f"{base}/v1/auth/login", {"initData": _init_data(user)})
                    token_scripts[user] = header_script(
                        directory, {"Authorization": f"Bearer {login['access_token']}"}, user
                    )
                login_lua = login_script(directory) if any(c.login for c in mine) else None
                for case in mine:
                    script = (
                        login_lua if case.login else token_scripts[case.user] if case.auth else None
                    )
                    url = base + case.path
                    run_wrk(wrk, url, seconds=warmup, connections=connections, script=script)
                    before = cpu_snapshot(process.pid, database)
                    report = run_wrk(
                        wrk, url, seconds=seconds, connections=connections, script=script
                    )
                    server_cpu, db_cpu = cpu_spent(before, cpu_snapshot(process.pid, database))
                    rps, p50, p99, errors = parse_wrk(report.stdout)
                    done = parse_requests(report.stdout)
                    per = 1e6 / done if done else float("nan")
                    result = Result(
                        case, rps, p50, p99, errors, done, server_cpu * per, db_cpu * per
                    )
                    results.append(result)
                    print(
                        f"  measured {case.name}: {rps:.0f} req/s, "
                        f"{result.server_cpu_us:.0f} us CPU/request",
                        flush=True,
                    )
                if name == "api":
                    rss = rss_mb(process.pid)
    return results, rss


def table(results: list[Result]) -> str:
    by_name = {result.case.name: result for result in results}
    lines = [
        f"{'endpoint':<44} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
        f"{'ratio':>6} {'goal':>16} {'':>4} {'rows-only ratio':>15}",
    ]
    for result in results:
        case = result.case
        ratio_text, goal_text, verdict, thin_text = "", "", "", ""
        if case.baseline is not None and case.goal is not None:
            base = by_name.get(case.baseline)
            ratio = result.rps / base.rps if base else float("nan")
            ratio_text = f"{ratio:.2f}"
            goal_text = f">={case.goal:.2f}" + (f", p99<={case.p99_ms:.0f}" if case.p99_ms else "")
            ok = ratio >= case.goal and result.errors == 0
            if case.p99_ms is not None:
                ok = ok and result.p99_ms <= case.p99_ms
            verdict = "pass" if ok else "FAIL"
        if case.rows_only is not None and (thin := by_name.get(case.rows_only)):
            thin_text = f"{result.rps / thin.rps:.2f}"
        lines.append(
            f"{case.name:<44} {result.rps:>7.0f} {result.p50_ms:>8.1f} {result.p99_ms:>8.1f} "
            f"{result.errors:>6} {ratio_text:>6} {goal_text:>16} {verdict:>4} {thin_text:>15}"
        )
    return "\n".join(lines)


def cpu_table(results: list[Result]) -> str:
    """CPU time per request: server process and its PostgreSQL backends, and the ratio
    baseline/ours of the server's (1.0: as cheap as the bare stack)."""
    by_name = {result.case.name: result for result in results}
    lines = [
        f"{'endpoint':<44} {'requests':>8} {'server us/req':>13} {'db us/req':>9} "
        f"{'ratio':>6} {'goal':>6} {'':>4} {'rows-only ratio':>15}",
    ]
    for result in results:
        case = result.case
        ratio_text, goal_text, verdict, thin_text = "", "", "", ""
        if case.baseline is not None and case.goal is not None:
            base = by_name.get(case.baseline)
            ratio = base.server_cpu_us / result.server_cpu_us if base else float("nan")
            ratio_text = f"{ratio:.2f}"
            goal_text = f">={case.goal:.2f}"
            verdict = "pass" if ratio >= case.goal and result.errors == 0 else "FAIL"
        if case.rows_only is not None and (thin := by_name.get(case.rows_only)):
            thin_text = f"{thin.server_cpu_us / result.server_cpu_us:.2f}"
        lines.append(
            f"{case.name:<44} {result.requests:>8} {result.server_cpu_us:>13.0f} "
            f"{result.db_cpu_us:>9.0f} {ratio_text:>6} {goal_text:>6} {verdict:>4} {thin_text:>15}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per case")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per case")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--database-url",
        help="an already seeded database to reuse (from --seed-only), instead of a fresh one",
    )
    parser.add_argument(
        "--seed-only", metavar="NAME", help="create, migrate and seed database NAME, keep it, exit"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated substrings of case names (also of the extra cases, e.g. mine:)",
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="report CPU time per request (server process, database backends) instead",
    )
    args = parser.parse_args()
    cases = CASES
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        every = CASES + EXTRA_CASES
        names = {c.name for c in every if any(w in c.name for w in wanted)}
        names |= {c.baseline for c in every if c.name in names and c.baseline}
        names |= {c.rows_only for c in every if c.name in names and c.rows_only}
        cases = [c for c in every if c.name in names]
    load = os.getloadavg()[0]
    print(
        f"machine: {os.cpu_count()} cores, load average {load:.2f} at start; wrk -t2 "
        f"-c{args.connections} -d{args.duration:g}s after a {args.warmup:g} s warm-up per case"
    )

    async def run() -> None:
        async with contextlib.AsyncExitStack() as stack:
            if args.database_url:
                database_url = args.database_url
            else:
                database_url = await stack.enter_async_context(postgres_database())
                await seed(database_url)
            results, rss = await asyncio.to_thread(
                measure,
                cases,
                database_url,
                seconds=args.duration,
                warmup=args.warmup,
                connections=args.connections,
            )
            print()
            print(cpu_table(results) if args.cpu else table(results))
            print(f"\nAPI process RSS after the run: {rss:.0f} MB (goal <= 200 MB: "
                  f"{'pass' if rss <= 200 else 'FAIL'})")  # fmt: skip
            load = os.getloadavg()
            print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")

    if args.seed_only:
        asyncio.run(seed_kept(args.seed_only))
    else:
        asyncio.run(run())


async def seed_kept(name: str) -> None:
    """A seeded database that outlives the run, for measuring changes one after another."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from benchmarks.harness import POSTGRES_ADMIN_URL
    from chainfluence.migrations import migrate

    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    await seed(url)
    print(f"seeded: --database-url {url}")


if __name__ == "__main__":
    main()
