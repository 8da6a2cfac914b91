"""The whole deployment as plain processes on loopback: a Dask scheduler, its workers, two
or more Streamlit replicas training on it (LSTMAE_DASK_SCHEDULER) and nginx in front.

    python -m deploy.topology                 # or scripts/cluster; Ctrl-C stops everything
    python -m deploy.topology --replicas 3 --workers 2 --port 8080

Used by the tests as a context manager (`topology(...)`), which stops everything it started.
The same topology in containers: deploy/compose.yaml.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.devserver import REPO, ServerError, free_port, healthy, stop

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


@dataclass
class Topology:
    """What is running: the URL to open (nginx), the replicas' own URLs, the scheduler."""

    url: str
    replicas: list[str]
    scheduler: str
    workdir: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def kill(self, name: str) -> None:
        """End one process (say "replica-1" or "worker-2") at once, as a crash would."""
        proc = self.procs[name]
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def render_nginx(listen: str, servers: list[str], prefix: Path) -> str:
    """nginx.conf for these replica addresses (host:port), its files under `prefix`."""
    lines = "\n".join(f"        server {s} max_fails=1 fail_timeout=10s;" for s in servers)
    return TEMPLATE.read_text().format(listen=listen, servers=lines, prefix=prefix)


def _spawn(name: str, cmd: list[str], workdir: Path, env: dict[str, str]) -> subprocess.Popen:
    log = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 - the process keeps it
    return subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **ENV, **env},
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # its own group: stop() ends all of it


def _wait(name: str, proc: subprocess.Popen, ready, workdir: Path, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None or time.monotonic() > end:
            log = (workdir / f"{name}.log").read_text(errors="replace")[-3000:]
            state = (f"exited with code {proc.returncode}" if proc.poll() is not None
                     else f"not ready after {timeout:g} s")
            raise ServerError(f"{name} {state}. Log:\n{log}")
        time.sleep(0.1)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _workers_in(scheduler: str, n: int) -> bool:
    from distributed import Client

    try:
        with Client(scheduler, timeout=2, set_as_default=False) as client:
            return len(client.scheduler_info(n_workers=-1)["workers"]) >= n
    except (OSError, TimeoutError):
        return False


@contextmanager
def topology(replicas: int = 2, workers: int = 2, port: int | None = None,
             workdir: Path | None = None, timeout: float = 120.0) -> Iterator[Topology]:
    """Start scheduler, workers, replicas and nginx on loopback; stop them all on exit."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise ServerError("nginx is not installed (Debian: apt-get install -y nginx)")
    with ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lstmae-")))
        # nginx started by root serves from worker processes running as `nobody`, which must
        # reach the temp directories under the workdir: a response the browser reads slower
        # than the replica sends (a 4.7 MB chart bundle) and every upload over 16 KB pass
        # through files there. Traverse, not list: the owner alone still reads the directory.
        workdir.chmod(workdir.stat().st_mode | 0o711)
        scheduler = f"tcp://127.0.0.1:{free_port()}"
        # One cookie secret for every replica: Streamlit signs its XSRF cookie with it, so an
        # upload still works after nginx moved a browser to another replica.
        secret = secrets.token_hex(16)
        top = Topology(url=f"http://127.0.0.1:{port or free_port()}", replicas=[],
                       scheduler=scheduler, workdir=workdir)

        def start(name: str, cmd: list[str], env: dict[str, str] | None = None):
            proc = top.procs[name] = _spawn(name, cmd, workdir, env or {})
            stack.callback(stop, proc)
            return proc

        dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
        proc = start("scheduler", [*dask, "--host", "127.0.0.1", "--port",
                                   scheduler.rsplit(":", 1)[1], "--no-dashboard"])
        _wait("scheduler", proc, lambda: _workers_in(scheduler, 0), workdir, timeout)
        for i in range(1, workers + 1):  # one process per core, one thread, one training slot
            start(f"worker-{i}", [sys.executable, "-m", "distributed.cli.dask_worker",
                                  scheduler, "--nthreads", "1", "--resources", "train=1",
                                  "--name", f"worker-{i}", "--no-dashboard",
                                  "--host", "127.0.0.1"])
        for i in range(1, replicas + 1):
            app_port = free_port()
            top.replicas.append(f"http://127.0.0.1:{app_port}")
            start(f"replica-{i}", [
                sys.executable, "-m", "lstmae_demo.ui.serve", "app.py",
                "--server.headless", "true", "--server.address", "127.0.0.1",
                "--server.port", str(app_port), "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none"],
                {"LSTMAE_DASK_SCHEDULER": scheduler, "STREAMLIT_SERVER_COOKIE_SECRET": secret})
        conf = workdir / "nginx.conf"
        conf.write_text(render_nginx(top.url.rsplit("//", 1)[1],
                                     [u.rsplit("//", 1)[1] for u in top.replicas], workdir))
        proc = start("nginx", [nginx, "-p", str(workdir), "-c", str(conf)])
        _wait("workers", top.procs["scheduler"], lambda: _workers_in(scheduler, workers),
              workdir, timeout)
        for i, url in enumerate(top.replicas, 1):
            _wait(f"replica-{i}", top.procs[f"replica-{i}"], lambda u=url: healthy(u),
                  workdir, timeout)
        _wait("nginx", proc, lambda: _answers(f"{top.url}/_stcore/health"), workdir, timeout)
        yield top


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/cluster", description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="Dask worker processes, one training slot each (default: cores)")
    parser.add_argument("--port", type=int, default=8080, help="nginx's port on loopback")
    args = parser.parse_args(argv)
    try:
        with topology(args.replicas, args.workers, args.port) as top:
            print(f"open {top.url}  (replicas {' '.join(top.replicas)}, scheduler "
                  f"{top.scheduler}, logs in {top.workdir}); Ctrl-C stops everything",
                  flush=True)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            while all(p.poll() is None for p in top.procs.values()):
                time.sleep(1)
            dead = [n for n, p in top.procs.items() if p.poll() is not None]
            print(f"stopped: {', '.join(dead)} exited (logs in {top.workdir})", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        return 0
    except ServerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
