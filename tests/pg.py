"""A throwaway PostgreSQL server for one test process.

`ThrowawayPostgres.start()` runs `initdb` into a fresh temporary directory, starts the server on a
free loopback port (its unix socket stays inside that directory, durability switched off for
speed) and `stop()` shuts it down and deletes everything. Each pytest-xdist worker starts its own.

PostgreSQL refuses to run as root, so when the tests run as root the server runs as an
unprivileged system user (`cxlens-pg`, created on first use; `nobody` if it cannot be created).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

#: Names a directory holding `initdb`, `pg_ctl` and `postgres`; overrides the search.
BINDIR_ENV = "CXLENS_PG_BINDIR"
SERVER_USER = "cxlens-pg"
FALLBACK_USER = "nobody"
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")

# Durability is worthless for a server deleted at the end of the session.
_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "max_connections": "100",
    "timezone": "'UTC'",
    "log_timezone": "'UTC'",
    "logging_collector": "off",
}


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries, or the server would not start."""


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", path.parent.name)) or (0,)


def _has_server(bindir: Path) -> bool:
    return all((bindir / program).is_file() for program in SERVER_PROGRAMS)


def find_bindir() -> Path | None:
    """Where the server binaries are: $CXLENS_PG_BINDIR, `pg_config --bindir`, the Debian dirs."""
    candidates: list[Path] = []
    if os.environ.get(BINDIR_ENV):
        candidates.append(Path(os.environ[BINDIR_ENV]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    return next((c for c in candidates if _has_server(c)), None)


def server_version(bindir: Path) -> str:
    out = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=10
    )
    return out.stdout.strip() or out.stderr.strip()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unprivileged_user() -> pwd.struct_passwd:
    """The account the server runs as when we are root; created if missing."""
    for _ in range(5):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(SERVER_USER)
        useradd = shutil.which("useradd")
        if useradd is None:
            break
        # Two xdist workers may race here: the loser fails and finds the user on the next turn.
        subprocess.run(
            [
                useradd,
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                SERVER_USER,
            ],
            capture_output=True,
            timeout=30,
        )
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(SERVER_USER)
        time.sleep(0.2)
    return pwd.getpwnam(FALLBACK_USER)


@dataclass
class ThrowawayPostgres:
    """One PostgreSQL server living in a temporary directory."""

    bindir: Path
    root: Path | None = None
    port: int | None = None
    _admin: psycopg.Connection[tuple[object, ...]] | None = None
    _user: pwd.struct_passwd | None = None
    _names: count[int] = field(default_factory=lambda: count(1))

    @property
    def datadir(self) -> Path:
        assert self.root is not None, "server not started"
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.root is not None, "server not started"
        return self.root / "socket"

    @property
    def logfile(self) -> Path:
        assert self.root is not None, "server not started"
        return self.root / "server.log"

    def url(self, dbname: str = "postgres") -> str:
        assert self.port is not None, "server not started"
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> ThrowawayPostgres:
        self._user = _unprivileged_user() if os.geteuid() == 0 else None
        # Not under pytest's basetemp: its parents are private to root, the server user must
        # be able to reach its own directory.
        self.root = Path(tempfile.mkdtemp(prefix="cxlens-pg-"))
        try:
            self.socket_dir.mkdir()
            if self._user is not None:
                os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
                os.chown(self.socket_dir, self._user.pw_uid, self._user.pw_gid)
            self._run(
                "initdb",
                "-D",
                str(self.datadir),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            )
            settings = {**_SETTINGS, "unix_socket_directories": f"'{self.socket_dir}'"}
            with (self.datadir / "postgresql.conf").open("a") as conf:
                conf.write("\n# throwaway test server\n")
                conf.writelines(f"{k} = {v}\n" for k, v in settings.items())
            self._start_on_a_free_port()
            self._admin = psycopg.connect(self.url(), autocommit=True, connect_timeout=10)
            # A test that left a transaction open makes a drop fail instead of hanging.
            self._admin.execute("SET lock_timeout = '10s'")
        except BaseException:
            self.stop()
            raise
        return self

    def _start_on_a_free_port(self) -> None:
        last_error: PostgresUnavailable | None = None
        for _ in range(3):  # another process may grab the port between probe and bind
            self.port = _free_port()
            try:
                self._run(
                    "pg_ctl",
                    "start",
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.logfile),
                    "-o",
                    f"-p {self.port}",
                    "-w",
                    "-t",
                    "60",
                )
                return
            except PostgresUnavailable as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    def stop(self) -> None:
        if self._admin is not None:
            with contextlib.suppress(psycopg.Error):
                self._admin.close()
            self._admin = None
        if self.root is None:
            return
        if (self.datadir / "postmaster.pid").exists():
            with contextlib.suppress(PostgresUnavailable, subprocess.SubprocessError):
                self._run("pg_ctl", "stop", "-D", str(self.datadir), "-m", "immediate", "-w")
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None
        self.port = None

    # ---- databases -------------------------------------------------------------------------
    def create_database(self, prefix: str = "test") -> str:
        """Create an empty database and return its URL (about 0.1-0.3 s)."""
        name = self._new_name(prefix)
        self._admin_execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
        )
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = str(conninfo_to_dict(url)["dbname"])
        self._admin_execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

    def create_schema(self, prefix: str = "test") -> str:
        """Create an empty schema and return a URL whose search_path is only that schema.

        Much cheaper than a database (about a millisecond), and as isolated for code that
        names no schema: tables, indexes and information_schema lookups through
        current_schema() all stay inside it."""
        name = self._new_name(prefix)
        self._admin_execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        return self.url() + f"?options=-csearch_path%3D{name}"

    def drop_schema(self, url: str) -> None:
        options = str(conninfo_to_dict(url).get("options") or "")
        name = options.removeprefix("-csearch_path=")
        self._admin_execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
        )

    def _new_name(self, prefix: str) -> str:
        return f"{prefix}_{os.getpid()}_{next(self._names)}"

    def _admin_execute(self, statement: sql.Composed) -> None:
        assert self._admin is not None, "server not started"
        self._admin.execute(statement)

    # ---- helpers ---------------------------------------------------------------------------
    def _run(self, program: str, *args: str) -> None:
        cmd = [str(self.bindir / program), *args]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LC_ALL": "C",
            "LANG": "C",
            "HOME": str(self.root),
            "TZ": "UTC",
        }
        user = self._user
        try:
            result = subprocess.run(
                cmd,
                cwd=self.root,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
                user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise PostgresUnavailable(f"{' '.join(cmd)} could not run: {exc}") from exc
        if result.returncode != 0:
            log = ""
            if self.root is not None and self.logfile.exists():
                log = "\n--- server log (tail) ---\n" + "\n".join(
                    self.logfile.read_text(errors="replace").splitlines()[-20:]
                )
            raise PostgresUnavailable(
                f"{' '.join(cmd)} exited with {result.returncode}"
                + (f" (as user {user.pw_name})" if user else "")
                + f":\n{result.stdout}{result.stderr}{log}"
            )
