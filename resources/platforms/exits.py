"""VPN/proxy exits: where they are configured, whether they work, and which one to use next.

An exit is a proxy (a VPN client that exposes a local SOCKS5 or HTTP proxy is one) that a platform client
sends all of its HTTP through when the direct path fails: the fallback chain's "API through an exit" and
"browser through an exit" layers (issue 9). Exits come from two places, merged:

- `PELLACIA_<PLATFORM>_PROXIES="socks5://127.0.0.1:1080,http://user:pass@host:3128"`: that platform's
  exits, in order, each named after its address;
- `PELLACIA_PROXIES_FILE`: a YAML list of `{name, url, country, platforms}` (`platforms`: a list of
  platforms, or `all`, the default), e.g. the plan's free NL, JP and RO VPN exits.

Schemes: `socks5://` (names resolved here), `socks5h://` (resolved by the exit, as a VPN should) and
`http://` (CONNECT and plain forwarding); the same three work for httpx (the five httpx clients) and
PySocks (httplib2 under the YouTube client, and the health checks).

An exit is checked before it is used: the proxy must accept a connection, and each platform host (the
client's configured roots) must answer through it; any HTTP answer counts, as even a refusal proves the
host was reached. `ExitPool` keeps failures in a JSON file under $PELLACIA_HOME, so every process skips
an exit that failed until its exponential backoff has passed.

Credentials in a proxy URL are never shown: names, `safe_url` and every error leave them out.
"""

from __future__ import annotations

import fcntl
import http.client
import json
import logging
import os
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import socks
import yaml

from resources.platforms import PLATFORMS, Platform, UnknownPlatformError, platform_named
from resources.platforms.config import DEFAULT_URLS

PROXIES_FILE_VARIABLE = "PELLACIA_PROXIES_FILE"
STATE_FILE = "exits.json"
OK = "ok"
# scheme -> (PySocks proxy type, whether the exit resolves the platform's host name)
SCHEMES: dict[str, tuple[int, bool]] = {
    "socks5": (socks.SOCKS5, False),
    "socks5h": (socks.SOCKS5, True),
    "http": (socks.HTTP, True),
}
FILE_KEYS = ("name", "url", "country", "platforms")
URL_FORM = "scheme://[user:password@]host:port with scheme socks5, socks5h or http"

log = logging.getLogger("pellacia.exits")


class ExitConfigError(ValueError):
    """A proxy URL or proxies file that cannot be used; the message is one line and holds no secret."""


def proxies_variable(platform: str) -> str:
    return f"PELLACIA_{platform.upper()}_PROXIES"


def hide_credentials(text: str) -> str:
    """`text` (a proxy URL, or what was meant as one) with any `user:password@` replaced by `***@`."""
    at = text.rfind("@")
    if at < 0:
        return text
    start = text.find("://")
    start = start + 3 if 0 <= start < at else 0
    return f"{text[:start]}***{text[at:]}"


@dataclass(frozen=True)
class ProxyAddress:
    """A parsed proxy URL; the password stays out of `repr`."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def safe_url(self) -> str:
        """The URL to show: scheme, host and port; `***@` where it carries credentials."""
        credentials = "***@" if self.username is not None or self.password is not None else ""
        return f"{self.scheme}://{credentials}{self.endpoint}"

    def pysocks(self) -> tuple[int, str, int, bool, str | None, str | None]:
        """The arguments of PySocks' `set_proxy` and of httplib2's `ProxyInfo`, which share their order."""
        kind, remote_dns = SCHEMES[self.scheme]
        return kind, self.host, self.port, remote_dns, self.username, self.password


def parse_proxy_url(url: str, where: str = "proxy") -> ProxyAddress:
    """`url` as a ProxyAddress; an ExitConfigError naming `where` (a variable, a file entry) otherwise."""
    text = url.strip()
    shown = hide_credentials(text)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise ExitConfigError(f"{where}: {shown!r} is not a proxy URL ({error}); use {URL_FORM}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ExitConfigError(f"{where}: {shown!r} is not a proxy URL; use {URL_FORM}")
    if not parts.hostname or port is None:
        raise ExitConfigError(f"{where}: {shown!r} needs a host and a port; use {URL_FORM}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ExitConfigError(f"{where}: {shown!r} has a path; use {URL_FORM}")
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return ProxyAddress(scheme, parts.hostname, port, username, password)


@dataclass(frozen=True)
class Exit:
    """One exit: its name, its proxy URL (credentials included, so never shown), its country and the
    platforms it may carry."""

    name: str
    url: str = field(repr=False)
    country: str | None
    platforms: tuple[Platform, ...]

    @property
    def address(self) -> ProxyAddress:
        return parse_proxy_url(self.url, self.name)

    @property
    def safe_url(self) -> str:
        return self.address.safe_url

    def serves(self, platform: str) -> bool:
        return platform in self.platforms


# --- configuration ----------------------------------------------------------------------------------------


def exits_for(platform: str, environ: Mapping[str, str] = os.environ) -> list[Exit]:
    """The exits that may carry `platform`: its PELLACIA_<P>_PROXIES in order, then the others that serve
    it (the proxies file's, in the file's order)."""
    chosen = platform_named(platform)
    every = {exit.url: exit for exit in all_exits(environ)}
    own = {exit.url: every[exit.url] for exit in _variable_exits(chosen, environ)}
    return [*own.values(), *(exit for exit in every.values() if exit.serves(chosen) and exit.url not in own)]


def all_exits(environ: Mapping[str, str] = os.environ) -> list[Exit]:
    """Every configured exit once: the platforms' variables, then the proxies file. A proxy listed in
    several places is one exit carrying the platforms of all of them, under its name in the file if it
    has one there."""
    listed = [exit for platform in PLATFORMS for exit in _variable_exits(platform, environ)]
    in_file = _file_exits(environ)
    named = {exit.url: exit for exit in in_file}
    found: dict[str, Exit] = {}
    for exit in [*listed, *in_file]:
        known = found.get(exit.url)
        label = named.get(exit.url, exit)
        platforms = tuple(p for p in PLATFORMS if exit.serves(p) or (known is not None and known.serves(p)))
        found[exit.url] = Exit(label.name, exit.url, label.country, platforms)
    return list(found.values())


def _variable_exits(platform: Platform, environ: Mapping[str, str]) -> list[Exit]:
    variable = proxies_variable(platform)
    exits = []
    for url in (part.strip() for part in environ.get(variable, "").split(",")):
        if url:
            address = parse_proxy_url(url, variable)
            exits.append(Exit(f"{address.scheme}://{address.endpoint}", url, None, (platform,)))
    return exits


def _file_exits(environ: Mapping[str, str]) -> list[Exit]:
    named = environ.get(PROXIES_FILE_VARIABLE, "").strip()
    if not named:
        return []
    path = Path(named).expanduser()
    where = f"{PROXIES_FILE_VARIABLE} ({path})"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExitConfigError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ExitConfigError(f"{where}: cannot be read: {reason}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        # only the problem and its line: the YAML library's message quotes the file, secrets included
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ExitConfigError(f"{where}: not valid YAML{at}: {getattr(error, 'problem', None)}") from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise ExitConfigError(f"{where}: expected a list of exits ({{name, url, country, platforms}})")
    exits: list[Exit] = []
    for number, entry in enumerate(data, 1):
        exit = _file_exit(entry, f"{where}, exit {number}")
        if any(known.name == exit.name for known in exits):
            raise ExitConfigError(f"{where}: two exits are named {exit.name!r}")
        exits.append(exit)
    return exits


def _file_exit(entry: Any, where: str) -> Exit:
    if not isinstance(entry, dict):
        raise ExitConfigError(f"{where}: expected a mapping with name, url, country and platforms")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ExitConfigError(f"{where}: needs a name")
    where = f"{where.rsplit(', exit ', 1)[0]}, exit {name.strip()!r}"
    unknown = sorted(str(key) for key in entry if key not in FILE_KEYS)
    if unknown:
        raise ExitConfigError(f"{where}: unknown field {', '.join(unknown)} (fields: {', '.join(FILE_KEYS)})")
    url = entry.get("url")
    if not isinstance(url, str):
        raise ExitConfigError(f"{where}: needs a url ({URL_FORM})")
    parse_proxy_url(url, where)
    country = entry.get("country")
    if country is not None and not isinstance(country, str):
        raise ExitConfigError(f"{where}: country must be text, such as NL")
    return Exit(
        name.strip(), url.strip(), country.strip().upper() if country else None, _platforms(entry, where)
    )


def _platforms(entry: Mapping[str, Any], where: str) -> tuple[Platform, ...]:
    named = entry.get("platforms", "all")
    if named == "all":
        return PLATFORMS
    if not isinstance(named, list) or not named or not all(isinstance(name, str) for name in named):
        raise ExitConfigError(f"{where}: platforms must be 'all' or a list such as [tiktok, youtube]")
    try:
        chosen = {platform_named(name) for name in named}
    except UnknownPlatformError as error:
        raise ExitConfigError(f"{where}: {error}") from None
    return tuple(platform for platform in PLATFORMS if platform in chosen)


def platform_roots(platform: str, environ: Mapping[str, str] = os.environ) -> list[str]:
    """The roots `platform`'s client is configured with (PELLACIA_<P>_<ROOT>_URL, else the real hosts):
    the hosts an exit must reach for that platform."""
    chosen = platform_named(platform)
    prefix = f"PELLACIA_{chosen.upper()}_"
    roots = (
        environ.get(f"{prefix}{kind.upper()}_URL", "").strip() or url
        for kind, url in DEFAULT_URLS[chosen].items()
    )
    return list(dict.fromkeys(roots))


def host_of(root: str) -> str:
    """A root URL's host as shown in health reports: `host`, or `host:port` for a port of its own."""
    parts = urlsplit(root)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or root
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


# --- health -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExitHealth:
    """Whether an exit works: `up` when every host answered through it; `latency_ms`, the quickest
    host's answer through it (None when none answered); `hosts`, each host's "ok" or why not."""

    up: bool
    latency_ms: float | None
    hosts: dict[str, str]
    error: str | None = None


def check_exit(exit: Exit, hosts: Sequence[str], timeout_s: float = 5.0) -> ExitHealth:
    """Connect to the proxy, then ask each root in `hosts` for `/` through it, all at once.

    However the exit misbehaves (refuses, drops, accepts and never answers), this returns within
    2.5 x `timeout_s`: once to reach the proxy, then at most 1.5 x for all of the hosts together."""
    if not hosts:
        raise ValueError("check_exit needs at least one platform host")
    address = exit.address
    roots = {host_of(root): root for root in hosts}
    try:
        with socket.create_connection((address.host, address.port), timeout=timeout_s):
            pass
    except OSError as error:
        reason = f"the proxy at {address.endpoint} is unreachable: {_os_reason(error, timeout_s)}"
        return ExitHealth(False, None, dict.fromkeys(roots, reason), reason)
    executor = ThreadPoolExecutor(max_workers=len(roots), thread_name_prefix="exit-check")
    try:
        futures = {
            host: executor.submit(_answer_time, address, root, timeout_s) for host, root in roots.items()
        }
        wait(futures.values(), timeout=timeout_s * 1.5)  # each socket times out first, saying where
    finally:
        executor.shutdown(wait=False, cancel_futures=True)  # a late one ends at its socket's timeout
    answers: dict[str, str] = {}
    times: list[float] = []
    for host, future in futures.items():
        if not future.done():
            answers[host] = f"no answer within {timeout_s:g} s"
        elif (failure := future.exception()) is not None:
            answers[host] = _reason(failure, timeout_s)
        else:
            answers[host] = OK
            times.append(future.result())
    latency_ms = round(min(times) * 1000, 1) if times else None
    failing = [f"{host}: {reason}" for host, reason in answers.items() if reason != OK]
    if not failing:
        return ExitHealth(True, latency_ms, answers)
    if not times and len(set(answers.values())) == 1:
        error_text = next(iter(answers.values()))
    else:
        error_text = (
            f"{len(failing)} of {len(answers)} hosts did not answer through it ({'; '.join(failing)})"
        )
    return ExitHealth(False, latency_ms, answers, error_text)


def _answer_time(address: ProxyAddress, root: str, timeout_s: float) -> float:
    """Seconds until `root` answered `GET /` through the proxy: a tunnel (SOCKS5 or HTTP CONNECT), TLS
    for https, then the status line of whatever it answered."""
    parts = urlsplit(root)
    secure = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    started = time.perf_counter()
    tunnel = socks.socksocket()
    tunnel.settimeout(timeout_s)
    connection: socket.socket = tunnel
    try:
        tunnel.set_proxy(*address.pysocks())
        tunnel.connect((host, port))
        if secure:
            connection = ssl.create_default_context().wrap_socket(tunnel, server_hostname=host)
        request = (
            f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "User-Agent: pellacia-exit-check\r\nConnection: close\r\n\r\n"
        )
        connection.sendall(request.encode())
        response = http.client.HTTPResponse(connection)
        response.begin()
        return time.perf_counter() - started
    finally:
        connection.close()
        tunnel.close()


def _reason(error: BaseException, timeout_s: float) -> str:
    """One line on why a host did not answer through the exit."""
    while isinstance(error, socks.GeneralProxyError) and isinstance(error.socket_err, socks.ProxyError):
        error = error.socket_err  # PySocks wraps the negotiation's own errors in "Socket error: ..."
    if isinstance(error, socks.ProxyError):
        if isinstance(error.socket_err, TimeoutError):
            return f"the proxy did not answer within {timeout_s:g} s"
        text = error.msg.strip().splitlines()[0] if error.msg.strip() else type(error).__name__
        if isinstance(error, socks.SOCKS5AuthError) or text.startswith(("401", "407")):
            return f"the proxy refused the credentials ({text})"
        if isinstance(error, socks.ProxyConnectionError):
            return f"the proxy is unreachable ({text})"
        return f"the proxy could not reach the host ({text})"
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed: {error.reason or error}"
    if isinstance(error, http.client.HTTPException):
        return f"the answer was not HTTP ({type(error).__name__})"
    if isinstance(error, OSError):
        return _os_reason(error, timeout_s)
    return f"{type(error).__name__}: {error}"


def _os_reason(error: BaseException, timeout_s: float) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error) or type(error).__name__


# --- choosing an exit -------------------------------------------------------------------------------------


@dataclass
class ExitRecord:
    """What the pool remembers of one exit across processes."""

    failures: int = 0
    retry_at: float = 0.0  # epoch seconds; before it the exit is skipped
    reason: str | None = None
    healthy_at: float | None = None
    latency_ms: float | None = None


class ExitPool:
    """The exits of every platform, in the order to try them, and what happened to each.

    `choose(platform)` checks exits in order (known-healthy first, quickest first; then never-checked;
    then those whose backoff has passed, each group in configuration order) and returns the first that
    is up, recording the others as failed. A failure backs its exit off for `backoff_s * 2**(n - 1)`
    seconds (at most `max_backoff_s`) after its n-th failure in a row; `succeeded` clears that. The
    records live in `state_file` (JSON, locked while updated), so another process sees them."""

    def __init__(
        self,
        exits: Sequence[Exit],
        state_file: Path,
        *,
        hosts: Callable[[str], Sequence[str]],
        timeout_s: float = 5.0,
        backoff_s: float = 60.0,
        max_backoff_s: float = 6 * 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.exits = list(exits)
        self.state_file = state_file
        self.hosts = hosts
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.clock = clock

    def records(self) -> dict[str, ExitRecord]:
        """The remembered state of each exit by name (an exit never used has none)."""
        if not self.state_file.exists():
            return {}
        with self._state(write=False) as records:
            return dict(records)

    def ordered(self, platform: str) -> list[Exit]:
        """The exits to try for `platform` now, best first; those still backing off are left out."""
        records = self.records()
        now = self.clock()

        def rank(indexed: tuple[int, Exit]) -> tuple[int, float, int]:
            index, exit = indexed
            record = records.get(exit.name, ExitRecord())
            if record.failures:
                return 2, 0.0, index
            if record.healthy_at is not None:
                return 0, record.latency_ms if record.latency_ms is not None else 0.0, index
            return 1, 0.0, index

        usable = [
            (index, exit)
            for index, exit in enumerate(self.exits)
            if exit.serves(platform) and records.get(exit.name, ExitRecord()).retry_at <= now
        ]
        return [exit for _index, exit in sorted(usable, key=rank)]

    def choose(self, platform: str) -> Exit | None:
        """The first exit for `platform` that passes its health check now; None when none does."""
        hosts = self.hosts(platform)
        for exit in self.ordered(platform):
            health = check_exit(exit, hosts, self.timeout_s)
            if health.up:
                with self._state() as records:
                    record = records.setdefault(exit.name, ExitRecord())
                    record.healthy_at, record.latency_ms = self.clock(), health.latency_ms
                return exit
            self.failed(exit, health.error or "unhealthy")
        return None

    def failed(self, exit: Exit, reason: str) -> None:
        """`exit` failed (a health check, or a connection dropped through it): skip it for a while."""
        with self._state() as records:
            record = records.setdefault(exit.name, ExitRecord())
            record.failures += 1
            wait_s = min(self.max_backoff_s, self.backoff_s * 2 ** (record.failures - 1))
            record.retry_at = self.clock() + wait_s
            record.reason = hide_credentials(reason)
            record.healthy_at = None
        log.warning("exit %s failed (%s); skipped for %.0f s", exit.name, record.reason, wait_s)

    def succeeded(self, exit: Exit) -> None:
        """A call went through `exit`: it is healthy again, its failures forgotten."""
        with self._state() as records:
            latency_ms = records[exit.name].latency_ms if exit.name in records else None
            records[exit.name] = ExitRecord(healthy_at=self.clock(), latency_ms=latency_ms)

    @contextmanager
    def _state(self, write: bool = True) -> Iterator[dict[str, ExitRecord]]:
        """The records, read under an exclusive lock and written back (atomically) when `write`."""
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.state_file.with_name(self.state_file.name + ".lock")
        with lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            records = self._read()
            yield records
            if write:
                temporary = self.state_file.with_name(self.state_file.name + ".tmp")
                payload = {"exits": {name: asdict(record) for name, record in records.items()}}
                temporary.write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")
                temporary.replace(self.state_file)

    def _read(self) -> dict[str, ExitRecord]:
        try:
            payload = json.loads(self.state_file.read_text(encoding="utf-8"))
            return {name: ExitRecord(**fields) for name, fields in payload["exits"].items()}
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            log.warning("%s is unreadable (%s); every exit starts afresh", self.state_file, error)
            return {}


def pool_from_env(home: Path, environ: Mapping[str, str] = os.environ, timeout_s: float = 5.0) -> ExitPool:
    """Every configured exit, its state in `$PELLACIA_HOME/exits.json`, checked against the configured
    roots of the platform it is chosen for."""
    return ExitPool(
        all_exits(environ),
        home / STATE_FILE,
        hosts=lambda platform: platform_roots(platform, environ),
        timeout_s=timeout_s,
    )
