"""Real proxy servers for the exit tests: Debian's microsocks (SOCKS5) and tinyproxy (HTTP), plus a
listener that accepts and never answers (an exit that hangs).

Each proxy connects out from an address of its own on the loopback network (`bind`: 127.0.0.2 for
microsocks, 127.0.0.3 for tinyproxy by default), so a sandbox can tell who reached it: `Peers` records
the address behind every request a sandbox answered, 127.0.0.1 for a client that went direct.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from sandbox.common import Request, SandboxServer

MICROSOCKS = shutil.which("microsocks") or "/usr/bin/microsocks"
TINYPROXY = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
SOCKS_BIND, HTTP_BIND = "127.0.0.2", "127.0.0.3"
USER = "exit-user"
SOCKS_PASSWORD = "s3cret:p@ss/word"  # URL-quoted in the exit's URL
HTTP_PASSWORD = "s3cret-pass.w0rd"  # tinyproxy's BasicAuth takes letters, digits and -._ only


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Proxy:
    """One running proxy process; `url` carries its credentials when it has some."""

    scheme: str
    port: int
    bind: str
    process: subprocess.Popen[bytes]
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    log: Path | None = None

    @property
    def url(self) -> str:
        return self.url_with(self.user, self.password)

    def url_with(self, user: str | None, password: str | None) -> str:
        """This proxy's URL with other credentials (or none): what a misconfigured exit would say."""
        credentials = f"{quote(user, safe='')}:{quote(password or '', safe='')}@" if user else ""
        return f"{self.scheme}://{credentials}127.0.0.1:{self.port}"

    def kill(self) -> None:
        """Stop at once (SIGKILL), as a VPN client that dies does; connections through it break."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def _started(proxy: Proxy) -> Proxy:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proxy.process.poll() is not None:
            raise RuntimeError(f"{proxy.scheme} proxy exited with {proxy.process.returncode} at start")
        try:
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=0.5):
                return proxy
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{proxy.scheme} proxy did not listen on {proxy.port} within 10 s")


@contextmanager
def running(proxy: Proxy) -> Iterator[Proxy]:
    try:
        yield _started(proxy)
    finally:
        proxy.kill()


def microsocks(bind: str = SOCKS_BIND, user: str | None = None, password: str | None = None) -> Proxy:
    """A SOCKS5 proxy on a free port of 127.0.0.1 (`user` and `password`: it demands them); start it
    with `running(...)`."""
    port = free_port()
    command = [MICROSOCKS, "-i", "127.0.0.1", "-p", str(port), "-b", bind]
    if user is not None:
        command += ["-u", user, "-P", password or ""]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Proxy("socks5h", port, bind, process, user, password)


def tinyproxy(
    folder: Path, bind: str = HTTP_BIND, user: str | None = None, password: str | None = None
) -> Proxy:
    """An HTTP proxy (forwarding and CONNECT to any port) on a free port of 127.0.0.1, logging each
    request to `folder/tinyproxy.log`; with `user`, it demands BasicAuth. Start it with `running(...)`."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / f"tinyproxy-{port}.log"
    lines = [
        f"Port {port}",
        "Listen 127.0.0.1",
        f"Bind {bind}",
        "Timeout 120",
        "MaxClients 64",
        "LogLevel Connect",
        f'LogFile "{log}"',
    ]
    if user is not None:
        lines.append(f"BasicAuth {user} {password}")
    config = folder / f"tinyproxy-{port}.conf"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    process = subprocess.Popen(
        [TINYPROXY, "-d", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return Proxy("http", port, bind, process, user, password, log)


@contextmanager
def hanging_listener() -> Iterator[str]:
    """`host:port` of a socket that accepts connections and never answers: an exit that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
        for connection in accepted:
            connection.close()


class Peers:
    """The address each request to `sandbox` came from (the proxy's `bind`, or 127.0.0.1 direct)."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.addresses: list[str] = []
        sandbox.observe(self._record)

    def _record(self, request: Request, _seconds: float) -> None:
        duplicate = os.dup(request.stream.fileno())
        with socket.socket(fileno=duplicate) as connection:
            try:
                self.addresses.append(connection.getpeername()[0])
            except OSError:
                self.addresses.append("gone")  # the client hung up before the answer

    def clear(self) -> None:
        self.addresses.clear()
