"""Shared machinery of the HTTP load benchmarks in ``bench/``: PostgreSQL, ``freight serve``, wrk, CPU, reports.

``bench/waybills.py`` and ``bench/events.py`` import it (they run as scripts, so ``bench/`` is on
``sys.path``). It creates a throw-away database and organisations with ``freight orgs create``, starts
the server, installs and runs wrk, parses its output, accounts for the CPU of each party and writes
results under ``bench/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import asyncpg  # type: ignore[import-untyped]

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
NOISY_OTHER_CPU = 40.0
"""Above this share of a core spent outside the benchmark's parties, the report warns of a busy machine."""
_CLK_TCK = os.sysconf("SC_CLK_TCK")
ConfigT = TypeVar("ConfigT")


# --- configuration and results ------------------------------------------------------------------


@dataclass(frozen=True)
class BenchConfig:
    """What to run: load shape, server shape and where PostgreSQL is."""

    duration: int
    connections: int
    workers: int
    threads: int
    warmup: int
    rounds: int
    timeout: int
    pool_size: int | None
    postgres_url: str


@dataclass(frozen=True)
class Target:
    """The server under load."""

    base_url: str
    server_pid: int
    """Pid of ``freight serve``; it and its descendants count as the server."""
    database: str
    """Name of the benchmark database; only PostgreSQL backends serving it count as its CPU."""


@dataclass
class CpuShare:
    """CPU used during one wrk run, as a percentage of one core (200 % is both cores of this machine)."""

    server: float
    postgres: float
    wrk: float
    machine: float
    """Every process of the machine, the kernel's network work included."""
    other: float
    """What the machine used besides the three parties: the kernel, and any unrelated process."""


@dataclass
class WrkResult:
    """What wrk reported for one run."""

    name: str
    requests: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    lua_non_2xx: int | None = None
    first_error: str | None = None
    cpu: CpuShare | None = None
    pg_connections: int | None = None
    """PostgreSQL connections opened to the benchmark database during the run (pool churn)."""
    output: str = field(default="", repr=False)

    @property
    def failed(self) -> int:
        """Requests that did not get a 2xx answer: non-2xx responses plus socket errors."""
        return max(self.non_2xx, self.lua_non_2xx or 0) + self.socket_errors


# --- command line ---------------------------------------------------------------------------------


def add_common_arguments(parser: argparse.ArgumentParser, *, duration: int = 15) -> None:
    """Add the options every benchmark shares: load shape, server shape, rounds and PostgreSQL.

    Args:
        parser: The benchmark's argument parser.
        duration: Default of ``--duration`` in seconds.
    """
    parser.add_argument(
        "--duration", type=int, default=duration, help=f"seconds of each measured wrk run (default {duration})"
    )
    parser.add_argument("--connections", type=int, default=32, help="concurrent HTTP connections (default 32)")
    parser.add_argument("--workers", type=int, default=2, help="server processes (default 2, one per core)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up before measuring (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="measurement rounds; the median is reported (default 3)")
    parser.add_argument("--timeout", type=int, default=10, help="wrk request timeout in seconds (default 10)")
    parser.add_argument("--pool-size", type=int, default=None, help="FREIGHT_DATABASE_POOL_SIZE for the server")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("FREIGHT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without database (default: $FREIGHT_BENCH_POSTGRES or postgres@127.0.0.1:5432)",
    )


def common_config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> BenchConfig:
    """Check the shared options and turn them into a configuration.

    Args:
        parser: The parser that read ``args`` (to report errors).
        args: The parsed command line.

    Returns:
        The benchmark configuration.
    """
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return BenchConfig(
        duration=args.duration,
        connections=args.connections,
        workers=args.workers,
        threads=args.threads,
        warmup=args.warmup,
        rounds=args.rounds,
        timeout=args.timeout,
        pool_size=args.pool_size,
        postgres_url=args.postgres.rstrip("/"),
    )


# --- wrk ------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """Return the path of ``wrk``, installing Debian's package first if it is missing.

    Returns:
        The absolute path of the ``wrk`` executable.

    Raises:
        RuntimeError: wrk is missing and could not be installed.
    """
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    install = [*sudo, "apt-get", "install", "-y", "--no-install-recommends", "wrk"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("wrk not found: installing it with apt-get", flush=True)
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update"], env=env, check=False)
        subprocess.run(install, env=env, check=False)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is missing and `apt-get install -y wrk` failed")
    return found


def wrk_command(
    wrk: str, config: BenchConfig, url: str, seconds: int, script: Path | None = None, script_args: Sequence[str] = ()
) -> list[str]:
    """Build the wrk command line.

    Args:
        wrk: Path of the wrk executable.
        config: Load shape (threads, connections, timeout).
        url: Full URL to load.
        seconds: Run length.
        script: wrk Lua script, or ``None`` for plain GETs.
        script_args: Arguments for the script (after ``--``).

    Returns:
        The argument vector.
    """
    command = [
        wrk,
        f"--threads={config.threads}",
        f"--connections={config.connections}",
        f"--duration={seconds}s",
        f"--timeout={config.timeout}s",
        "--latency",
    ]
    if script is not None:
        command += ["--script", str(script), url, "--", *script_args]
    else:
        command.append(url)
    return command


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_UNIT_SECONDS = {"us": 1e-6, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _duration(text: str, units: dict[str, float]) -> float:
    """Convert a wrk duration such as ``850.00us``, ``1.23ms`` or ``15.01s`` with ``units``."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * units[match[2]]


def _search_int(pattern: str, text: str) -> int:
    match = re.search(pattern, text, re.MULTILINE)
    return int(match[1]) if match else 0


def parse_wrk_output(name: str, text: str) -> WrkResult:
    """Read the figures out of ``wrk --latency`` output (with or without the Lua script's lines).

    Args:
        name: Label of the run.
        text: wrk's standard output.

    Returns:
        The parsed result.

    Raises:
        ValueError: the output lacks the request count or the latency distribution.
    """
    total = re.search(r"^\s*(\d+) requests in ([\d.]+\w+), ", text, re.MULTILINE)
    p50 = re.search(r"^\s*50%\s+([\d.]+\w+)", text, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+([\d.]+\w+)", text, re.MULTILINE)
    if total is None or p50 is None or p99 is None:
        raise ValueError(f"unexpected wrk output:\n{text}")
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    lua_non_2xx = re.search(r"^lua_non_2xx: (\d+)", text, re.MULTILINE)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    first_error = re.search(r"^lua_first_error: (.*)$", text, re.MULTILINE)
    requests = int(total[1])
    seconds = _duration(total[2], _UNIT_SECONDS)
    return WrkResult(
        name=name,
        requests=requests,
        seconds=seconds,
        per_second=float(rate[1]) if rate else requests / seconds,
        p50_ms=_duration(p50[1], _UNIT_MS),
        p99_ms=_duration(p99[1], _UNIT_MS),
        non_2xx=_search_int(r"Non-2xx or 3xx responses: (\d+)", text),
        socket_errors=sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
        lua_non_2xx=int(lua_non_2xx[1]) if lua_non_2xx else None,
        first_error=first_error[1] if first_error else None,
        output=text,
    )


# --- CPU accounting from /proc ----------------------------------------------------------------------


class ProcessCpu(NamedTuple):
    """One process as ``/proc/<pid>/stat`` shows it."""

    name: str
    parent: int
    ticks: int
    """User plus system CPU clock ticks so far, its own and those of its children that exited.

    PostgreSQL forks a backend per connection: when a pool closes and reopens connections under load,
    the exited backends' CPU shows up here, in the postmaster's share.
    """


def _process_cpu(pid: int) -> ProcessCpu | None:
    """Read ``/proc/<pid>/stat``, or ``None`` if the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return ProcessCpu(stat[stat.index("(") + 1 : stat.rindex(")")], int(fields[1]), sum(int(n) for n in fields[11:15]))


def _snapshot() -> dict[int, ProcessCpu]:
    """Every process of the machine by pid."""
    processes = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (info := _process_cpu(int(entry.name))) is not None:
            processes[int(entry.name)] = info
    return processes


def _machine_busy_ticks() -> int:
    """Non-idle CPU ticks of the whole machine (all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4]  # minus idle and iowait


def _descendants(root: int, processes: dict[int, ProcessCpu]) -> set[int]:
    """``root`` and every process below it."""
    tree, grew = {root}, True
    while grew:
        children = {pid for pid, info in processes.items() if info.parent in tree} - tree
        tree |= children
        grew = bool(children)
    return tree


def _serves_database(pid: int, database: str) -> bool:
    """Whether a PostgreSQL process works for ``database``: its backend, or a shared background process.

    Backends show ``postgres: 15/main: user database host(port) state`` as their command line;
    background processes (WAL writer, checkpointer, ...) and the postmaster show no client address.
    """
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return f" {database} " in command or "(" not in command


def _children_cpu_seconds() -> float:
    """User plus system CPU seconds of this process's children that have exited (here: wrk)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CpuProbe:
    """Measures the CPU that the server, PostgreSQL and wrk use from its creation to ``share()``.

    The server and PostgreSQL are read from ``/proc`` (processes that exit meanwhile are not counted,
    those that start meanwhile count in full; backends of other databases are left out); wrk, a child
    of this process that has exited by then, from this process's resource usage of its children.
    """

    def __init__(self, target: Target) -> None:
        """Take the starting snapshot.

        Args:
            target: The server and database to account for.
        """
        self.target = target
        self.before = _snapshot()
        self.machine_before = _machine_busy_ticks()
        self.children_before = _children_cpu_seconds()
        self.started = time.monotonic()

    def _percent(self, after: dict[int, ProcessCpu], pids: set[int], elapsed: float) -> float:
        ticks = sum(after[pid].ticks - (self.before[pid].ticks if pid in self.before else 0) for pid in pids)
        return round(100.0 * ticks / _CLK_TCK / elapsed, 1)

    def share(self) -> CpuShare:
        """The CPU used since the probe was made, per party."""
        after, machine_after = _snapshot(), _machine_busy_ticks()
        elapsed = time.monotonic() - self.started
        postgres = {
            pid
            for pid, info in after.items()
            if info.name in {"postgres", "postmaster"} and _serves_database(pid, self.target.database)
        }
        server = self._percent(after, _descendants(self.target.server_pid, after), elapsed)
        database = self._percent(after, postgres, elapsed)
        wrk = round(100.0 * (_children_cpu_seconds() - self.children_before) / elapsed, 1)
        machine = round(100.0 * (machine_after - self.machine_before) / _CLK_TCK / elapsed, 1)
        other = round(max(machine - server - database - wrk, 0.0), 1)
        return CpuShare(server=server, postgres=database, wrk=wrk, machine=machine, other=other)


def run_wrk(
    wrk: str,
    config: BenchConfig,
    target: Target,
    name: str,
    path: str,
    seconds: int,
    script: Path | None = None,
    script_args: Sequence[str] = (),
) -> WrkResult:
    """Run wrk once and parse its report, measuring the CPU of each party meanwhile.

    Args:
        wrk: Path of the wrk executable.
        config: Load shape.
        target: The server under load.
        name: Label of the run.
        path: URL path to load, e.g. ``/health/live``.
        seconds: Run length.
        script: wrk Lua script, or ``None`` for plain GETs.
        script_args: Arguments for the script.

    Returns:
        The parsed result.

    Raises:
        RuntimeError: wrk failed.
    """
    command = wrk_command(wrk, config, f"{target.base_url}{path}", seconds, script, script_args)
    sessions_before = database_sessions(config.postgres_url, target.database)
    probe = CpuProbe(target)
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    cpu = probe.share()
    sessions_after = database_sessions(config.postgres_url, target.database)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk exited with {completed.returncode}:\n{completed.stdout}\n{completed.stderr}")
    result = parse_wrk_output(name, completed.stdout)
    result.cpu = cpu
    if sessions_before is not None and sessions_after is not None:
        result.pg_connections = sessions_after - sessions_before
    return result


# --- PostgreSQL and organisations -------------------------------------------------------------------


async def _admin(postgres_url: str, statement: str) -> None:
    connection = await asyncpg.connect(f"{postgres_url}/postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_database(postgres_url: str) -> str:
    """Create a fresh database named ``freight_bench_<random>``.

    Args:
        postgres_url: Server URL without a database, e.g. ``postgresql://postgres@127.0.0.1:5432``.

    Returns:
        The new database's name.
    """
    name = f"freight_bench_{secrets.token_hex(4)}"
    asyncio.run(_admin(postgres_url, f'CREATE DATABASE "{name}"'))
    return name


async def _database_sessions(postgres_url: str, database: str) -> int | None:
    connection = await asyncpg.connect(f"{postgres_url}/postgres")
    try:
        sessions: int | None = await connection.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = $1", database
        )
        return sessions
    except asyncpg.UndefinedColumnError:  # before PostgreSQL 14
        return None
    finally:
        await connection.close()


def database_sessions(postgres_url: str, database: str) -> int | None:
    """Connections opened to ``database`` so far, from ``pg_stat_database`` (PostgreSQL 14+, else ``None``).

    The counters lag by up to a second or so, which hardly matters over a run of many seconds.
    """
    return asyncio.run(_database_sessions(postgres_url, database))


def drop_database(postgres_url: str, name: str) -> None:
    """Drop the database ``name``, closing any connection still open to it."""
    asyncio.run(_admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _freight_executable() -> str:
    """The ``freight`` command of this environment (the one ``uv run freight`` starts)."""
    local = Path(sys.executable).parent / "freight"
    return str(local) if local.exists() else shutil.which("freight") or "freight"


def create_org(database_url: str, *, name: str, role: str, uscc: str) -> str:
    """Create an organisation with ``freight orgs create`` (which also migrates the database).

    Args:
        database_url: URL of the benchmark database.
        name: Registered name.
        role: ``shipper``, ``carrier``, ...
        uscc: Unified social credit code.

    Returns:
        The organisation's API key (the command's last line of output).
    """
    command = [
        _freight_executable(),
        "orgs",
        "create",
        "--name",
        name,
        "--role",
        role,
        "--uscc",
        uscc,
        "--database-url",
        database_url,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    if completed.returncode != 0:
        raise RuntimeError(f"freight orgs create failed:\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout.strip().splitlines()[-1].strip()


# --- the server -------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(config: BenchConfig, database_url: str, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``freight serve`` in its own process group, its output going to ``log_path``.

    Args:
        config: Server shape (workers, pool size).
        database_url: URL of the benchmark database.
        port: TCP port to listen on.
        log_path: File for the server's stdout and stderr.

    Returns:
        The server process.
    """
    env = {**os.environ, "FREIGHT_ACCESS_LOG": "false", "FREIGHT_DATABASE_URL": database_url}
    if config.pool_size is not None:
        env["FREIGHT_DATABASE_POOL_SIZE"] = str(config.pool_size)
    command = [
        _freight_executable(),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(config.workers),
        "--database-url",
        database_url,
    ]
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT, start_new_session=True
        )


def wait_ready(server: subprocess.Popen[bytes], base_url: str, log_path: Path, timeout: float = 60.0) -> None:
    """Poll ``/health/ready`` until it answers 200.

    Raises:
        RuntimeError: the server exited or was not ready within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"freight serve exited with {server.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{base_url}/health/ready", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"freight serve was not ready after {timeout:.0f}s:\n{log_path.read_text()}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stop the server's process group: SIGTERM, then SIGKILL after 15 seconds."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


# --- report -----------------------------------------------------------------------------------------


def _optional(value: int | None) -> str:
    return "?" if value is None else str(value)


def _cpu_text(cpu: CpuShare | None) -> str:
    if cpu is None:
        return ""
    return (
        f"server {cpu.server:5.1f}%  postgres {cpu.postgres:5.1f}%  wrk {cpu.wrk:5.1f}%  "
        f"other {cpu.other:5.1f}%  (machine {cpu.machine:5.1f}%)"
    )


def print_table(config: BenchConfig, results: Sequence[WrkResult], *, name_width: int = 20) -> None:
    """Print the load shape and one line per wrk run: rate, latency, failures, PG connections, CPU.

    Args:
        config: Load and server shape.
        results: The runs to show, in order.
        name_width: Width of the endpoint column.
    """
    print()
    print(
        f"freight serve --workers {config.workers}; wrk --threads {config.threads} --connections "
        f"{config.connections} --duration {config.duration}s on {os.cpu_count()} cores"
    )
    print(
        f"{'endpoint':<{name_width}} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'failed':>7} "
        f"{'new PG conns':>12}  CPU (100% = 1 core)"
    )
    for result in results:
        print(
            f"{result.name:<{name_width}} {result.per_second:>9.1f} {result.p50_ms:>8.2f} {result.p99_ms:>8.2f} "
            f"{result.requests:>9} {result.failed:>7} {_optional(result.pg_connections):>12}  {_cpu_text(result.cpu)}"
        )


def print_noise_and_failures(results: Sequence[WrkResult]) -> None:
    """Warn when other processes took a lot of CPU, and print the first error of each failed run."""
    busy = [result.cpu.other for result in results if result.cpu and result.cpu.other > NOISY_OTHER_CPU]
    if busy:
        print(
            f"note: up to {max(busy):.0f}% of a core went to other processes (kernel, unrelated jobs): figures are low"
        )
    for result in results:
        if result.failed:
            print(
                f"FAILED requests ({result.name}): non-2xx {result.non_2xx} (Lua count {result.lua_non_2xx}), "
                f"socket errors {result.socket_errors}; first error: {result.first_error}"
            )


def check(result: WrkResult) -> None:
    """Raise if any request of ``result`` failed (used for warm-ups and setup runs).

    Raises:
        RuntimeError: with the first error body and wrk's output.
    """
    if result.failed:
        raise RuntimeError(
            f"{result.name}: {result.failed} failed requests; first error: {result.first_error}\n{result.output}"
        )


def timestamp() -> str:
    """The current UTC time as ``20261121T133032Z``, for result file names."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def machine_info() -> dict[str, Any]:
    """CPU count, platform and Python version, for result files."""
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}


def write_json(prefix: str, stamp: str, document: dict[str, Any]) -> Path:
    """Write ``document`` to ``bench/results/<prefix>-<stamp>.json`` (git-ignored).

    Returns:
        The file's path.
    """
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{prefix}-{stamp}.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# --- setting up and tearing down --------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """The throw-away benchmark database."""

    name: str
    url: str


@contextmanager
def benchmark_database(postgres_url: str) -> Iterator[Database]:
    """Create a fresh database for the run and drop it afterwards, whatever happened.

    Args:
        postgres_url: Server URL without a database.

    Yields:
        The database.
    """
    name = create_database(postgres_url)
    print(f"database {name}", flush=True)
    try:
        yield Database(name=name, url=f"{postgres_url}/{name}")
    finally:
        drop_database(postgres_url, name)


@contextmanager
def scratch_directory() -> Iterator[Path]:
    """A temporary directory for request bodies and the server log, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="freight-bench-") as scratch:
        yield Path(scratch)


@contextmanager
def running_server(config: BenchConfig, database: Database, scratch: Path) -> Iterator[Target]:
    """Start ``freight serve`` on a free port, wait until it is ready, and stop it afterwards.

    Args:
        config: Server shape (workers, pool size).
        database: The benchmark database (already migrated by ``freight orgs create``).
        scratch: Where the server log goes.

    Yields:
        The server under load.
    """
    port, log_path = free_port(), scratch / "server.log"
    server = start_server(config, database.url, port, log_path)
    try:
        target = Target(base_url=f"http://127.0.0.1:{port}", server_pid=server.pid, database=database.name)
        wait_ready(server, target.base_url, log_path)
        print(f"server pid {server.pid} on {target.base_url}, {config.workers} worker(s)", flush=True)
        yield target
    finally:
        stop_server(server)


def http_json(method: str, url: str, key: str, body: Any = None, timeout: float = 30.0) -> tuple[int, Any]:
    """Send one JSON request with a bearer key (for setting up data, not for measuring).

    Args:
        method: HTTP method.
        url: Full URL.
        key: API key.
        body: JSON body, or ``None`` for none.
        timeout: Seconds to wait for the answer.

    Returns:
        The status code and the decoded JSON answer (the raw text if it is not JSON).
    """
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status, text = answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode(errors="replace")
    try:
        return status, json.loads(text)
    except json.JSONDecodeError:
        return status, text


def run_main(run: Callable[[ConfigT], int], config: ConfigT) -> int:
    """Run ``run(config)`` and turn a ``RuntimeError`` into a message and exit status 1.

    Returns:
        The exit status.
    """
    try:
        return run(config)
    except RuntimeError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
