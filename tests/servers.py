"""Servers for the tests: the app in this process (`in_process_server`, what most web tests
use), and real ones on free ports (`ketju serve`, `oxigraph serve-read-only` and Virtuoso 7)
for what only a real server shows: its processes, signals, access log, remote engines.

Both kinds answer the same calls: `.base` (and `.sparql`) to build URLs from, and
`get`/`post`/`put`/`head`/`options`/`request`/`client()` with httpx's signatures, so a test
reads the same over either.
"""

from __future__ import annotations

import contextlib
import email.message
import getpass
import http.cookiejar
import io
import itertools
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import urllib.response
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
from starlette.testclient import TestClient

from ketju.core.project import Project
from ketju.core.settings import Settings

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not come up")


class Served:
    """What a test calls a server through: `base`, `sparql`, and httpx's verbs with absolute
    URLs (built from `base`)."""

    base: str

    @property
    def sparql(self) -> str:
        return self.base + "/sparql"

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        raise NotImplementedError

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def head(self, url: str, **options: Any) -> httpx.Response:
        return self.request("HEAD", url, **options)

    def options(self, url: str, **options: Any) -> httpx.Response:
        return self.request("OPTIONS", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)

    def put(self, url: str, **options: Any) -> httpx.Response:
        return self.request("PUT", url, **options)

    def client(self, **options: Any) -> httpx.Client:
        """A client of its own (keeps cookies, like a browser)."""
        raise NotImplementedError


class Server(Served):
    """A real server (a process of its own) at `base`."""

    def __init__(self, base: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.base = base
        self.process = process
        self.log = log

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        return httpx.request(method, url, **options)

    def client(self, **options: Any) -> httpx.Client:
        return httpx.Client(**options)


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Shared in-process clients keep no cookies: each call stands alone, as `httpx.get` does
    (a `?lang=` switch in one test must not choose the language of the next)."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


class _LogLines(logging.Handler):
    """The app's log lines (ketju's loggers, the access log included), as a server writes
    them to its log file."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        self.lines.append(line)
        if record.levelno >= logging.ERROR:
            self.errors.append(line)


class InProcessServer(Served):
    """`create_app` over a built project, driven in this process by Starlette's TestClient:
    no server process, no port. Its lifespan runs (query processes, the chain index), and
    calls from several threads are answered concurrently (the app's event loop runs in a thread
    of its own, plain `def` routes in its thread pool).

    `base` is `http://testserver:8000` (`testserver-2`, ... while several run), a host that
    does not resolve: a call that bypasses this object fails instead of reaching some other
    server. Only calls through urllib are routed to the app by host (`_UrllibToApps`: rdflib
    fetching a JSON-LD context, SPARQLWrapper, rdflib's SPARQLStore).

    `log_text()` holds the lines of ketju's loggers (the access log included) while it runs;
    several apps in one process share those loggers, so it holds the others' lines too."""

    def __init__(self, client: TestClient, log: _LogLines) -> None:
        self.base = str(client.base_url).rstrip("/")
        self._client = client
        self._log = log
        self.app = client.app

    def log_text(self) -> str:
        return "\n".join(self._log.lines) + "\n"

    def log_errors(self) -> list[str]:
        """The app's log lines at level ERROR or above (with their tracebacks)."""
        return list(self._log.errors)

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        options.pop("timeout", None)  # nothing waits on a network
        return self._client.request(method, url, **options)

    def client(self, **options: Any) -> httpx.Client:
        options.pop("timeout", None)
        return httpx.Client(transport=self._client._transport, base_url=self.base, **options)


class _UrllibToApps(urllib.request.HTTPHandler):
    """urllib's `http:` handler, except that hosts of in-process servers are answered by
    their app (rdflib fetches a JSON-LD `@context` with urllib; SPARQLWrapper and rdflib's
    SPARQLStore call endpoints with it). Installed for the test process when this module is
    imported; other hosts go to the network as usual."""

    clients: ClassVar[dict[str, TestClient]] = {}

    def http_open(self, req: urllib.request.Request) -> Any:
        client = self.clients.get(req.host)
        if client is None:
            return super().http_open(req)
        answer = client.request(req.get_method(), req.full_url, headers=dict(req.header_items()),
                                content=req.data)  # type: ignore[arg-type]
        message = email.message.Message()
        for key, value in answer.headers.multi_items():
            message[key] = value
        response = urllib.response.addinfourl(io.BytesIO(answer.content), message,
                                              req.full_url, answer.status_code)
        response.msg = answer.reason_phrase  # type: ignore[attr-defined]
        return response


urllib.request.install_opener(urllib.request.build_opener(_UrllibToApps()))
_hosts = itertools.count(1)


@contextlib.contextmanager
def in_process_server(project: Project, **settings: Any) -> Iterator[InProcessServer]:
    """The app of `ketju serve --no-build` over `project`, with these settings (as
    `ketju_server` takes them), in this process."""
    from ketju.web.app import create_app

    app = create_app(Settings(home=str(project.root), **settings), project=project)
    lines = _LogLines()
    logger = logging.getLogger("ketju")
    level = logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    try:
        # Like httpx.get: no redirects followed, and no cookies kept between calls.
        number = next(_hosts)
        # A port, as a real server has (a fallback to the ASGI scope's server shows it).
        host = ("testserver" if number == 1 else f"testserver-{number}") + ":8000"
        with TestClient(app, base_url=f"http://{host}", follow_redirects=False) as client:
            client.cookies.jar.set_policy(_NoCookies())
            _UrllibToApps.clients[host] = client
            try:
                yield InProcessServer(client, lines)
            finally:
                del _UrllibToApps.clients[host]
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def ketju_server(home: Path, log_dir: Path, **settings: object) -> Iterator[Server]:
    """`ketju serve --no-build` over the project at `home`, with KETJU_* settings."""
    port = free_port()
    env = {**os.environ, "KETJU_HOME": str(home)}
    for key, value in settings.items():
        env[f"KETJU_{key.upper()}"] = ",".join(value) if isinstance(value, tuple | list) \
            else str(value)
    log = log_dir / f"ketju-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(BIN / "ketju"), "serve", "--no-build", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        yield Server(f"http://127.0.0.1:{port}", process, log)
    finally:
        _stop(process)


@contextlib.contextmanager
def oxigraph_server(store: Path, log_dir: Path) -> Iterator[Server]:
    """The reference engine: `oxigraph serve-read-only` on a copy of a built store."""
    port = free_port()
    copy = log_dir / f"oxigraph-store-{port}"
    shutil.copytree(store, copy)
    log = log_dir / f"oxigraph-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(BIN / "oxigraph"), "serve-read-only", "--location", str(copy),
             "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", process)
        yield Server(f"http://127.0.0.1:{port}", process, log)
    finally:
        _stop(process)


#: Debian's Virtuoso 7 (`make tools` installs the package `virtuoso-opensource`).
VIRTUOSO = Path("/usr/bin/virtuoso-t")
ISQL = Path("/usr/bin/isql-vt")
#: The packaged configuration the tests' own is made from (paths and ports replaced).
VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")


class Virtuoso(Server):
    """A running Virtuoso: `.base` is its HTTP server (SPARQL at `.endpoint`), `.isql(...)`
    runs SQL as dba over its own SQL port."""

    def __init__(self, base: str, process: subprocess.Popen[bytes], log: Path,
                 sql_port: int) -> None:
        super().__init__(base, process, log)
        self.sql_port = sql_port

    @property
    def endpoint(self) -> str:
        return self.base + "/sparql"

    def isql(self, *statements: str, timeout: float = 300) -> str:
        script = "".join(f"{statement.rstrip().rstrip(';')};\n" for statement in statements)
        done = subprocess.run([str(ISQL), f"127.0.0.1:{self.sql_port}", "dba", "dba",
                               "VERBOSE=OFF", "BANNER=OFF", "PROMPT=OFF", "ECHO=OFF",
                               "ERRORS=STDOUT"],
                              input=script.encode(), capture_output=True, timeout=timeout)
        out = done.stdout.decode("utf-8", errors="replace")
        if done.returncode != 0 or "*** Error" in out:
            raise RuntimeError(f"isql failed ({done.returncode}): {out}\n{done.stderr!r}")
        return out


def virtuoso_ini(folder: Path, sql_port: int, http_port: int, buffers: int = 20000) -> str:
    """The packaged virtuoso.ini with its own database folder and loopback ports, no result
    row limit, no partial ("anytime") answers and no query cost refusal: what ketju needs of
    the engine (README, "Remote mode"). `buffers` are 8 KiB pages of memory: the tests' small
    catalogue needs few; the benchmark gives Virtuoso what its guide advises for 4 GB."""
    import configparser

    config = configparser.RawConfigParser(strict=False, inline_comment_prefixes=(";",),
                                          interpolation=None)
    config.optionxform = str  # type: ignore[assignment,method-assign]
    config.read(VIRTUOSO_INI, encoding="utf-8")
    files = {"DatabaseFile": "virtuoso.db", "ErrorLogFile": "virtuoso.log",
             "LockFile": "virtuoso.lck", "TransactionFile": "virtuoso.trx",
             "xa_persistent_file": "virtuoso.pxa"}
    for key, name in files.items():
        config["Database"][key] = str(folder / name)
    config["TempDatabase"]["DatabaseFile"] = str(folder / "virtuoso-temp.db")
    config["TempDatabase"]["TransactionFile"] = str(folder / "virtuoso-temp.trx")
    parameters = config["Parameters"]
    parameters["ServerPort"] = f"127.0.0.1:{sql_port}"
    parameters["DirsAllowed"] = f"., {folder}, /usr/share/virtuoso-opensource-7/vad"
    parameters["NumberOfBuffers"] = str(buffers)
    parameters["MaxDirtyBuffers"] = str(buffers * 3 // 4)
    parameters["CheckpointInterval"] = "0"
    parameters["DisableUnixSocket"] = "1"
    config["HTTPServer"]["ServerPort"] = f"127.0.0.1:{http_port}"
    config["HTTPServer"]["ServerThreads"] = "20"
    config["HTTPServer"]["MaxClientConnections"] = "20"
    sparql = config["SPARQL"]
    sparql["ResultSetMaxRows"] = "10000000"
    sparql["MaxQueryExecutionTime"] = "0"
    sparql.pop("MaxQueryCostEstimationTime", None)
    if config.has_section("Striping"):
        config.remove_section("Striping")
    out = io.StringIO()
    config.write(out)
    return out.getvalue()


@contextlib.contextmanager
def virtuoso_server(dump: Path, log_dir: Path, buffers: int = 20000) -> Iterator[Virtuoso]:
    """Virtuoso 7 on loopback ports with a database folder of its own, loaded from a build's
    N-Quads dump (`ketju.nq.gz`) with its bulk loader, showing the catalogue's graphs only."""
    sql_port, http_port = free_port(), free_port()
    folder = log_dir / f"virtuoso-{http_port}"
    folder.mkdir()
    shutil.copy(dump, folder / "ketju.nq.gz")
    ini = folder / "virtuoso.ini"
    ini.write_text(virtuoso_ini(folder, sql_port, http_port, buffers), encoding="utf-8")
    log = folder / "virtuoso-stdout.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(VIRTUOSO), "+foreground", "+configfile", str(ini)],
                                   cwd=folder, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        server = Virtuoso(f"http://127.0.0.1:{http_port}", process, log, sql_port)
        wait_until_up(server.endpoint + "?query=ASK%7B%7D", process, seconds=120)
        load_into_virtuoso(server, folder)
        yield server
    finally:
        _stop(process)


def load_into_virtuoso(server: Virtuoso, folder: Path) -> None:
    """The bulk loader over the dump (each quad into the graph it names), then only the graphs
    of the dump readable by the endpoint's anonymous user: Virtuoso's own graphs (its
    mappings, service description, ...) are hidden from the union default graph."""
    server.isql(f"ld_dir('{folder}', 'ketju.nq.gz', 'https://w3id.org/ketju/graph/unnamed')",
                "rdf_loader_run()", "checkpoint")
    errors = server.isql("SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST "
                         "WHERE ll_error IS NOT NULL")
    assert "ketju.nq.gz" not in errors, errors
    server.isql("DB.DBA.RDF_DEFAULT_USER_PERMS_SET('nobody', 0)",
                *(f"DB.DBA.RDF_GRAPH_USER_PERMS_SET('{graph}', 'nobody', 1)"
                  for graph in sorted(dump_graphs(folder / "ketju.nq.gz"))))


def dump_graphs(dump: Path) -> set[str]:
    """The names of the graphs in an N-Quads dump."""
    import gzip

    import pyoxigraph as ox

    with gzip.open(dump) as data:
        return {quad.graph_name.value for quad in ox.parse(data, format=ox.RdfFormat.N_QUADS)
                if isinstance(quad.graph_name, ox.NamedNode)}


class Listener:
    """A loopback listener that counts connections and answers each with `reply` (raw bytes
    after reading the request), or hangs up at once when `reply` is empty."""

    def __init__(self, reply: bytes = b"") -> None:
        self.reply = reply
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self._running = True
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while self._running:
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            try:
                connection.settimeout(2)
                if self.reply:
                    connection.recv(65536)
                    connection.sendall(self.reply)
            except OSError:
                pass
            finally:
                connection.close()

    def close(self) -> None:
        self._running = False
        self._thread.join()
        self.socket.close()


# -- nginx (Debian's package; `make tools` installs `nginx-light`) ---------------------------

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
#: The site configuration docs/DEPLOYMENT.md quotes.
TEMPLATE = Path(__file__).resolve().parent.parent / "deploy" / "nginx-ketju.conf"

#: What the test wraps around deploy/nginx-ketju.conf: what /etc/nginx/nginx.conf gives a
#: deployment, with every path inside the test's folder. `user` is only heeded when nginx
#: starts as root (then its workers run as this user, who can write the folder).
MAIN = """\
user {user};
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$request_method $request_uri $status $upstream_addr';
    access_log {prefix}/access.log upstream;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/ketju.conf;
}}
"""


def site_config(listen: str, backends: list[str]) -> str:
    """deploy/nginx-ketju.conf with its @...@ words filled in."""
    text = TEMPLATE.read_text(encoding="utf-8")
    servers = "\n".join(f"    server {backend};" for backend in backends)
    return text.replace("@BACKENDS@", servers).replace("@LISTEN@", listen) \
        .replace("@SERVER_NAME@", "_")


@contextlib.contextmanager
def nginx(prefix: Path, port: int, backends: list[str]) -> Iterator[Path]:
    """nginx in the foreground on 127.0.0.1:`port`, round robin over `backends`; yields its
    access log."""
    prefix.mkdir()
    (prefix / "ketju.conf").write_text(site_config(f"127.0.0.1:{port}", backends))
    conf = prefix / "nginx.conf"
    conf.write_text(MAIN.format(user=getpass.getuser(), prefix=prefix))
    checked = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(prefix)],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    with open(prefix / "stderr.log", "wb") as out:
        process = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(prefix),
                                    "-g", "daemon off;"],
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process, seconds=20)
        yield prefix / "access.log"
    finally:
        _stop(process)
