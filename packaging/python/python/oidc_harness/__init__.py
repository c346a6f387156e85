"""Run oidc-harness's mock OpenID Connect provider from Python tests.

``with oidc_harness.provider() as idp:`` starts ``oidc-harness serve`` on a free loopback port
with a temporary state directory, waits until it answers, and stops it on exit. ``idp`` tells
where everything is (issuer, endpoints, CA, clients, personas) and drives the admin API
(faults, claims queued for the next ID token, personas, clients, key rotation).

Standard library only: the admin API is called with urllib, trusting the provider's own CA.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sysconfig
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Admin",
    "AdminError",
    "Client",
    "Provider",
    "ProviderError",
    "Registry",
    "binary",
    "provider",
]

#: Names the ``oidc-harness`` executable to run instead of the one installed with this package.
BIN_ENV = "OIDC_HARNESS_BIN"

_EXE = "oidc-harness.exe" if os.name == "nt" else "oidc-harness"


class ProviderError(RuntimeError):
    """The provider could not be found, did not start, or stopped before it was ready."""


class AdminError(RuntimeError):
    """The provider refused a request: its status and OAuth-style error body."""

    def __init__(self, method: str, url: str, status: int, body: Any):
        self.status = status
        self.body = body
        self.error = body.get("error") if isinstance(body, dict) else None
        self.description = body.get("error_description") if isinstance(body, dict) else None
        detail = f"{self.error}: {self.description}" if self.error else repr(body)
        super().__init__(f"{method} {url} -> {status} {detail}")


@dataclass(frozen=True)
class Client:
    """A registered OAuth client and its secret."""

    id: str
    secret: str


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _installed() -> Iterable[str]:
    """Where the wheel puts the binary. With its shared libraries bundled (a manylinux wheel)
    the executable sits in ``oidc_harness.scripts/`` beside this package and the scripts
    directory holds a Python launcher that execs it; otherwise the scripts directory holds the
    executable itself. Then the user scheme's scripts directory (``pip install --user``)."""
    yield os.path.join(os.path.dirname(os.path.dirname(__file__)), "oidc_harness.scripts", _EXE)
    yield os.path.join(sysconfig.get_path("scripts"), _EXE)
    preferred = getattr(sysconfig, "get_preferred_scheme", None)
    user_scheme = preferred("user") if preferred else f"{os.name}_user"
    try:
        yield os.path.join(sysconfig.get_path("scripts", user_scheme), _EXE)
    except KeyError:
        return


def binary() -> str:
    """The ``oidc-harness`` executable: ``$OIDC_HARNESS_BIN``, else the one installed with
    this package, else the first on ``PATH``."""
    override = os.environ.get(BIN_ENV)
    if override:
        if not _executable(override):
            raise ProviderError(f"{BIN_ENV}={override}: not an executable file")
        return override
    for candidate in _installed():
        if _executable(candidate):
            return candidate
    found = shutil.which(_EXE)
    if found:
        return found
    raise ProviderError(
        f"cannot find {_EXE}: install the oidc-harness wheel into this environment "
        f"or set {BIN_ENV} to the executable"
    )


class _Http:
    """JSON over HTTP(S), trusting only the provider's CA."""

    def __init__(self, context: ssl.SSLContext | None, timeout: float):
        self._context = context
        self._timeout = timeout

    def call(self, method: str, url: str, body: Any = None) -> Any:
        data = None
        headers = {"accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(
                request, timeout=self._timeout, context=self._context
            ) as response:
                raw = response.read()
        except urllib.error.HTTPError as refused:
            raw = refused.read()
            try:
                answer: Any = json.loads(raw)
            except ValueError:
                answer = raw.decode("utf-8", "replace")
            raise AdminError(method, url, refused.code, answer) from None
        return json.loads(raw) if raw else None


class Registry:
    """The personas or the clients of a running provider, changed without a restart: ``put``
    creates or replaces one (a persona as in ``fixtures/personas.toml``, ``sub`` required; a
    client as a ``[[client]]`` table, ``client_secret`` required), as a dict."""

    def __init__(self, admin: Admin, kind: str):
        self._admin = admin
        self._kind = kind

    def _path(self, id: str) -> str:
        return f"/_harness/{self._kind}/{urllib.parse.quote(id, safe='')}"

    def list(self) -> list:
        return self._admin.request("GET", f"/_harness/{self._kind}")[self._kind]

    def put(self, id: str, entry: Mapping[str, Any]) -> dict:
        return self._admin.request("PUT", self._path(id), dict(entry))

    def delete(self, id: str) -> None:
        self._admin.request("DELETE", self._path(id))


class Admin:
    """The admin API (``/_harness/...``) of one provider or one brand below it.

    Every call raises :class:`AdminError` when the provider refuses it (a 400 names the
    member at fault)."""

    def __init__(self, http: _Http, base: str):
        self._http = http
        self.base = base.rstrip("/")
        self.personas = Registry(self, "personas")
        self.clients = Registry(self, "clients")

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Any admin route, e.g. ``request("GET", "/_harness/state")``; the decoded JSON answer,
        or ``None`` for an empty one."""
        return self._http.call(method, self.base + path, body)

    def state(self) -> dict:
        """Issuer, public URL, clients, personas, queued claims, faults, kids, store sizes."""
        return self.request("GET", "/_harness/state")

    # Faults: what the provider gets wrong until cleared.
    def set_faults(self, **faults: Any) -> dict:
        """Replaces the faults, e.g. ``set_faults(mutate=["iss-mismatch"])`` or
        ``set_faults(lapses=["reusable-code"])``; returns them as the provider reads them."""
        return self.request("PUT", "/_harness/faults", faults)

    def faults(self) -> dict:
        return self.request("GET", "/_harness/faults")

    def clear_faults(self) -> None:
        """Back to honest behaviour."""
        self.request("DELETE", "/_harness/faults")

    # Claims for the next ID token of a client or persona, once each.
    def queue_claims(
        self,
        claims: Mapping[str, Any],
        *,
        client: str | None = None,
        persona: str | None = None,
    ) -> int:
        """Puts ``claims`` over the next ID token issued to ``client`` or for ``persona``
        (exactly one of them); returns how many sets wait."""
        if (client is None) == (persona is None):
            raise ValueError("queue_claims takes exactly one of client= or persona=")
        target = {"client": client} if client is not None else {"persona": persona}
        return self.request("POST", "/_harness/queue", {**target, "claims": dict(claims)})[
            "waiting"
        ]

    def queued(self) -> list:
        return self.request("GET", "/_harness/queue")["queued"]

    def clear_queue(self) -> None:
        self.request("DELETE", "/_harness/queue")

    def rotate_keys(self) -> Any:
        """A new signing key signs from now on; the previous ones stay published."""
        return self.request("POST", "/_harness/keys/rotate")


def _tail(path: str, limit: int = 4000) -> str:
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return text[-limit:].strip()


class Provider:
    """One ``oidc-harness serve`` process. Use it as a context manager (or ``start()`` and
    ``stop()``); the attributes below are set once it is ready.

    ``issuer``, ``url`` (the public URL, base of every endpoint), ``port``, ``ca`` (path of
    the CA certificate, ``None`` without TLS), ``endpoints`` (name -> URL, e.g.
    ``endpoints["token"]``), ``discovery_url``, ``clients`` (:class:`Client`), ``client``
    (the first one, ``demo-client`` by default), ``personas`` (their ids), ``admin``
    (:class:`Admin`), ``state_dir``. After ``stop()``: ``returncode``, ``stdout_text`` and
    ``stderr_text`` (what the server printed).
    """

    def __init__(
        self,
        *,
        config: str | None = None,
        issuer: str | None = None,
        tls: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir: str | None = None,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        executable: str | None = None,
        timeout: float = 20.0,
        stop_timeout: float = 5.0,
    ):
        self._options = dict(config=config, issuer=issuer, tls=tls, host=host, port=port)
        self._state_dir = state_dir
        self._args = list(args)
        self._env = dict(env) if env is not None else None
        self._executable = executable
        self.timeout = timeout
        self.stop_timeout = stop_timeout
        self._process: subprocess.Popen | None = None
        self._workdir: tempfile.TemporaryDirectory | None = None
        self._logs: list = []
        self.returncode: int | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def command(self, ready_file: str, state_dir: str) -> list:
        """The command line ``start()`` runs."""
        o = self._options
        command = [self._executable or binary(), "serve", "--addr", f"{o['host']}:{o['port']}"]
        command += ["--state-dir", state_dir, "--ready-file", ready_file]
        if o["config"] is not None:
            command += ["--config", os.fspath(o["config"])]
        if o["issuer"] is not None:
            command += ["--issuer", o["issuer"]]
        if not o["tls"]:
            command.append("--no-tls")
        return command + self._args

    def start(self) -> Provider:
        if self._process is not None:
            raise ProviderError("this provider is already running")
        if self._executable is None:
            self._executable = binary()
        self._workdir = tempfile.TemporaryDirectory(prefix="oidc-harness-")
        work = self._workdir.name
        state_dir = self._state_dir or os.path.join(work, "state")
        ready_file = os.path.join(work, "ready.json")
        self.stdout_path = os.path.join(work, "stdout.log")
        self.stderr_path = os.path.join(work, "stderr.log")
        command = self.command(ready_file, state_dir)
        env = dict(os.environ if self._env is None else self._env)
        env.setdefault("NO_COLOR", "1")
        # Files, not pipes: a chatty server never blocks on a full pipe nobody reads.
        stdout = open(self.stdout_path, "wb")
        stderr = open(self.stderr_path, "wb")
        self._logs = [stdout, stderr]
        try:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=env
            )
        except OSError as err:
            self._cleanup()
            raise ProviderError(f"cannot run {command[0]}: {err}") from err
        try:
            ready = self._wait_ready(ready_file)
            self._describe(ready, state_dir)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, ready_file: str) -> dict:
        assert self._process is not None
        deadline = time.monotonic() + self.timeout
        while True:
            if os.path.exists(ready_file):
                with open(ready_file, encoding="utf-8") as handle:
                    return json.load(handle)
            code = self._process.poll()
            if code is not None:
                raise ProviderError(
                    f"oidc-harness serve exited with status {code} before it was ready:\n"
                    + (_tail(self.stderr_path) or _tail(self.stdout_path) or "(no output)")
                )
            if time.monotonic() > deadline:
                raise ProviderError(
                    f"oidc-harness serve was not ready after {self.timeout:g} s:\n"
                    + (_tail(self.stderr_path) or "(nothing on stderr)")
                )
            time.sleep(0.02)

    def _describe(self, ready: dict, state_dir: str) -> None:
        self.ready = ready
        self.issuer: str = ready["issuer"]
        self.url: str = ready["public_url"]
        self.port: int = ready["port"]
        self.ca: str | None = ready["ca"]
        self.endpoints: dict = dict(ready["endpoints"])
        self.discovery_url: str = self.endpoints["discovery"]
        self.clients = [Client(c["client_id"], c["client_secret"]) for c in ready["clients"]]
        self.state_dir = state_dir
        http = _Http(self.ssl_context(), timeout=10.0)
        self.admin = Admin(http, self.url)
        overview = http.call("GET", self.url + "/?format=json")
        self.personas: list = list(overview["personas"])

    @property
    def client(self) -> Client:
        if not self.clients:
            raise ProviderError("this provider has no clients")
        return self.clients[0]

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client context trusting this provider's CA (``None`` when it serves plain HTTP)."""
        return ssl.create_default_context(cafile=self.ca) if self.ca else None

    def stop(self) -> int | None:
        """SIGTERM, then a kill after ``stop_timeout`` seconds; returns the exit status."""
        process = self._process
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(self.stop_timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            self.returncode = process.returncode
            self._process = None
        self._cleanup()
        return self.returncode

    def _cleanup(self) -> None:
        for log in self._logs:
            log.close()
        self._logs = []
        if self._workdir is not None:
            self.stdout_text = _tail(self.stdout_path, limit=1 << 20)
            self.stderr_text = _tail(self.stderr_path, limit=1 << 20)
            self._workdir.cleanup()
            self._workdir = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> Provider:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = getattr(self, "issuer", None) or "not started"
        return f"<oidc_harness.Provider {where}>"


def provider(**options: Any) -> Provider:
    """A provider to run in a ``with`` block: ``with provider() as idp: ...``.

    Options: ``config`` (a harness.toml), ``issuer``, ``tls`` (default True), ``host``,
    ``port`` (default 0: a free one), ``state_dir`` (default: a temporary directory, so a
    fresh CA), ``args`` (more ``serve`` flags), ``env``, ``executable``, ``timeout`` (seconds
    to wait for the ready file), ``stop_timeout``.
    """
    return Provider(**options)
