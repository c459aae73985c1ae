"""Email alerts against a real SMTP server (aiosmtpd): STARTTLS with AUTH, implicit TLS, plain SMTP."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from resources.alerts.channels import AlertError
from resources.alerts.config import AlertSettings
from resources.alerts.email import EmailChannel
from tests.resources.alerts.smtp_server import (
    PASSWORD,
    USER,
    Certificate,
    SmtpServer,
    make_certificate,
    smtp_server,
)

TO = "desk@pellacia.test, Night Editor <night@pellacia.test>"
FROM = "Pellacia alerts <alerts@pellacia.test>"
TEXT = "Pellacia: run failed (story-1 on youtube)\nthe upload was refused\nhttp://127.0.0.1:3000/runs/abc"


def lan_address() -> str | None:
    """This machine's address on its network (not loopback), or None when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("203.0.113.1", 9))  # UDP: nothing is sent
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture(scope="module")
def starttls(certificate: Certificate) -> Iterator[SmtpServer]:
    with smtp_server("starttls", certificate) as server:
        yield server


@pytest.fixture(scope="module")
def smtps(certificate: Certificate) -> Iterator[SmtpServer]:
    with smtp_server("smtps", certificate) as server:
        yield server


def channel(url: str, ca_file: Path | None = None, to: str = TO, timeout_s: float = 10.0) -> EmailChannel:
    settings = AlertSettings.from_values(
        {
            "PELLACIA_SMTP_URL": url,
            "PELLACIA_ALERT_EMAIL_TO": to,
            "PELLACIA_ALERT_EMAIL_FROM": FROM,
            "PELLACIA_SMTP_CA_FILE": str(ca_file) if ca_file else None,
        }
    )
    assert settings.email is not None
    return EmailChannel(settings.email, timeout_s=timeout_s)


def test_starttls_with_login_delivers_one_well_formed_message(
    starttls: SmtpServer, certificate: Certificate
) -> None:
    before = len(starttls.messages())
    channel(starttls.url(), certificate.cert_file).send(TEXT)

    received = starttls.messages()[before:]
    assert len(received) == 1
    mail = received[0]
    assert mail.rcpt_tos == ["desk@pellacia.test", "night@pellacia.test"]
    assert mail.mail_from == "alerts@pellacia.test"
    assert (USER, PASSWORD) in starttls.logins  # the percent-encoded user and password, decoded
    message = mail.message
    assert message["Subject"] == "Pellacia: run failed (story-1 on youtube)"
    assert message["From"] == FROM
    assert "night@pellacia.test" in message["To"]
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message["Message-ID"].endswith("@pellacia.test>")
    assert message.get_content().splitlines() == TEXT.splitlines()


def test_wrong_password_is_the_servers_refusal_without_the_password(
    starttls: SmtpServer, certificate: Certificate
) -> None:
    with pytest.raises(AlertError) as failure:
        channel(starttls.url(password="not-it"), certificate.cert_file).send(TEXT)
    reason = str(failure.value)
    assert "refused the login: 535" in reason
    assert "not-it" not in reason and "not-it" not in repr(failure.value)


def test_an_untrusted_certificate_is_refused_and_names_the_ca_variable(starttls: SmtpServer) -> None:
    before = len(starttls.logins)
    with pytest.raises(AlertError, match=r"cannot be verified .*PELLACIA_SMTP_CA_FILE"):
        channel(starttls.url()).send(TEXT)
    assert len(starttls.logins) == before  # the password never went to a server we could not verify


def test_a_refused_recipient_is_reported_with_the_servers_reply(
    starttls: SmtpServer, certificate: Certificate
) -> None:
    starttls.refuse.add("nobody@pellacia.test")
    try:
        with pytest.raises(AlertError, match=r"nobody@pellacia\.test: 550 5\.1\.1"):
            channel(starttls.url(), certificate.cert_file, to="nobody@pellacia.test").send(TEXT)
    finally:
        starttls.refuse.clear()


def test_smtps_implicit_tls(smtps: SmtpServer, certificate: Certificate) -> None:
    channel(smtps.url("smtps"), certificate.cert_file).send("Pellacia: test\nover implicit TLS")
    assert [mail.message["Subject"] for mail in smtps.messages()] == ["Pellacia: test"]
    assert (USER, PASSWORD) in smtps.logins


def test_plain_smtp_on_loopback_may_log_in_and_without_credentials_sends(certificate: Certificate) -> None:
    with smtp_server("plain") as server:
        channel(server.url()).send("Pellacia: loopback\nno TLS on this machine")
        channel(server.url(user=None)).send("Pellacia: anonymous\nno credentials")
        assert [mail.message["Subject"] for mail in server.messages()] == [
            "Pellacia: loopback",
            "Pellacia: anonymous",
        ]
        assert server.logins == [(USER, PASSWORD)]


def test_a_password_never_crosses_the_network_unencrypted() -> None:
    address = lan_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to listen on")
    with smtp_server("plain", host=address) as server:
        with pytest.raises(AlertError, match=r"offers no STARTTLS.*unencrypted: not sent"):
            channel(server.url()).send(TEXT)
        assert server.logins == [] and server.messages() == []


def test_an_unreachable_server_fails_quickly() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(AlertError, match=f"cannot reach 127.0.0.1:{port}"):
        channel(f"smtp://127.0.0.1:{port}", timeout_s=2).send(TEXT)


def test_the_repr_names_no_password(certificate: Certificate, starttls: SmtpServer) -> None:
    email_channel = channel(starttls.url(), certificate.cert_file)
    assert PASSWORD not in repr(email_channel) and PASSWORD not in repr(email_channel.settings)


def test_non_ascii_text_survives(starttls: SmtpServer, certificate: Certificate) -> None:
    before = len(starttls.messages())
    channel(starttls.url(), certificate.cert_file).send("Pellacia: échec (story-é on tiktok) 🚨\nréessayé")
    [mail] = starttls.messages()[before:]
    assert mail.message["Subject"] == "Pellacia: échec (story-é on tiktok) 🚨"
    assert mail.message.get_content().splitlines() == ["Pellacia: échec (story-é on tiktok) 🚨", "réessayé"]
