"""A real SMTP server (aiosmtpd) for the alert tests: STARTTLS with AUTH, implicit TLS, or plain SMTP.

The TLS modes use a self-signed certificate made here with `cryptography`; tests trust it through
PELLACIA_SMTP_CA_FILE, as an operator trusts a private CA.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER, PASSWORD = "alerts@pellacia.test", "s3cret p@ss:w/rd%"


@dataclass(frozen=True)
class Certificate:
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_certificate(folder: Path, hosts: tuple[str, ...] = ("localhost", "127.0.0.1")) -> Certificate:
    """A self-signed certificate (its own CA) for `hosts`: names and IP addresses."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Pellacia test SMTP")])
    now = dt.datetime.now(dt.UTC)
    alt_names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return Certificate(cert_file, key_file)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class SmtpServer:
    """What a test holds: where the server listens, what it received, and every login it was offered."""

    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, scheme: str = "smtp", user: str | None = USER, password: str | None = PASSWORD) -> str:
        credentials = ""
        if user is not None:
            credentials = quote(user, safe="") + (
                f":{quote(password, safe='')}" if password is not None else ""
            )
            credentials += "@"
        return f"{scheme}://{credentials}{self.host}:{self.port}"

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    # aiosmtpd's hooks ----------------------------------------------------------------------------------

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook names
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 2.0.0 Ok: queued"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        with self.lock:
            self.logins.append((login, password))
        return AuthResult(success=(login, password) == (USER, PASSWORD), handled=False)


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(
    mode: str, certificate: Certificate | None = None, *, host: str = "127.0.0.1", auth: bool = True
) -> Iterator[SmtpServer]:
    """`mode`: "starttls" (STARTTLS offered; AUTH only after it), "smtps" (TLS from the first byte) or
    "plain" (no TLS at all; AUTH allowed in clear)."""
    server = SmtpServer(host, free_port(host))
    options: dict[str, Any] = {"authenticator": server.authenticate} if auth else {}
    if mode == "starttls":
        assert certificate is not None
        options |= {"tls_context": certificate.server_context(), "auth_require_tls": True}
    elif mode == "smtps":
        assert certificate is not None
        options |= {"ssl_context": certificate.server_context(), "auth_require_tls": False}
    else:
        options |= {"auth_require_tls": False}
    controller = Controller(server, hostname=host, port=server.port, **options)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
