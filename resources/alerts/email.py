"""Alerts by email through an SMTP server: STARTTLS on `smtp://`, implicit TLS on `smtps://`.

The server's certificate is always verified (the system's CAs, or a private CA file). A password is never
sent unencrypted across the network: on a server that offers no STARTTLS it is refused, unless the server
is this machine (loopback), where nothing crosses a wire.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from resources.alerts.channels import AlertError, redact

SUBJECT_LIMIT = 200


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send: `implicit_tls` is smtps:// (TLS from the first byte), else STARTTLS."""

    host: str
    port: int
    implicit_tls: bool
    sender: str
    recipients: tuple[str, ...]
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None


def build_message(settings: SmtpSettings, text: str) -> EmailMessage:
    """The alert as an email: the text's first line is the subject, the whole text the body."""
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "Pellacia alert")
    message = EmailMessage()
    message["Subject"] = first_line[:SUBJECT_LIMIT]
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text)
    return message


class EmailChannel:
    """One SMTP server and its recipients; every network step waits at most `timeout_s`."""

    name = "email"

    def __init__(self, settings: SmtpSettings, *, timeout_s: float = 10.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        scheme = "smtps" if self.settings.implicit_tls else "smtp"
        return f"EmailChannel({scheme}://{self._where}, to={list(self.settings.recipients)!r})"

    @property
    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def send(self, text: str) -> None:
        message = build_message(self.settings, text)
        try:
            refused = self._deliver(message, self._tls_context())
        except OSError as error:  # smtplib's and ssl's errors are OSErrors too
            raise AlertError(redact(self._reason(error), self.settings.password)) from None
        if refused:
            raise AlertError(
                redact(
                    "the server refused "
                    + "; ".join(f"{rcpt}: {_reply(code, text)}" for rcpt, (code, text) in refused.items()),
                    self.settings.password,
                )
            )

    def _tls_context(self) -> ssl.SSLContext:
        """Certificate verification on: the system's CAs, or only the private CA file when one is set."""
        try:
            return ssl.create_default_context(cafile=self.settings.ca_file)
        except (OSError, ValueError) as error:
            raise AlertError(
                f"PELLACIA_SMTP_CA_FILE {self.settings.ca_file} is not a readable PEM file: {error}"
            ) from None

    def _deliver(self, message: EmailMessage, context: ssl.SSLContext) -> dict[str, tuple[int, bytes]]:
        settings = self.settings
        smtp: smtplib.SMTP
        if settings.implicit_tls:
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=self.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=self.timeout_s)
        with smtp:
            smtp.ehlo()
            if not settings.implicit_tls:
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=context)
                    smtp.ehlo()
                elif settings.username is not None and not _over_loopback(smtp):
                    raise AlertError(
                        f"{self._where} offers no STARTTLS, so the SMTP password would cross the network "
                        "unencrypted: not sent (use a server with STARTTLS, or smtps://)"
                    )
            if settings.username is not None:
                smtp.login(settings.username, settings.password or "")
            return smtp.send_message(message)

    def _reason(self, error: OSError) -> str:
        """One line for the operator: the server's own reply where it gave one."""
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            return "the server refused " + "; ".join(
                f"{rcpt}: {_reply(code, text)}" for rcpt, (code, text) in error.recipients.items()
            )
        if isinstance(error, smtplib.SMTPAuthenticationError):
            return f"the server refused the login: {_reply(error.smtp_code, error.smtp_error)}"
        if isinstance(error, smtplib.SMTPResponseException):
            return f"the server answered {_reply(error.smtp_code, error.smtp_error)}"
        if isinstance(error, smtplib.SMTPNotSupportedError):
            return f"{self._where}: {error} (remove the user and password from PELLACIA_SMTP_URL?)"
        if isinstance(error, smtplib.SMTPServerDisconnected):
            return f"{self._where} closed the connection: {error}"
        if isinstance(error, ssl.SSLCertVerificationError):
            return (
                f"the certificate of {self.settings.host} cannot be verified ({error.verify_message}); "
                "for a private CA set PELLACIA_SMTP_CA_FILE"
            )
        if isinstance(error, ssl.SSLError):
            return f"TLS with {self._where} failed: {error.reason or error}"
        if isinstance(error, TimeoutError):
            return f"no answer from {self._where} within {self.timeout_s:g} s"
        if isinstance(error, smtplib.SMTPException):
            return f"{self._where}: {error}"
        return f"cannot reach {self._where}: {error.strerror or error}"


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}"


def _over_loopback(smtp: smtplib.SMTP) -> bool:
    """Whether the connection really goes to this machine (what was connected to, not what was named)."""
    if smtp.sock is None:
        return False
    address = str(smtp.sock.getpeername()[0]).partition("%")[0]
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
