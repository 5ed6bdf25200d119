"""A real SMTP server (aiosmtpd) on 127.0.0.1 for tests and benchmarks that prove
delivery. Needs the dev dependency aiosmtpd; never imported by the running site.

In a test module or conftest: `from schoolgate.outbox.testing import smtp_server`,
then point mail at it with `school_mail_at(smtp_server)` (the school's email
add-on) or `platform_mail_at(settings, smtp_server)` (the default mailer).
`smtp_server.messages` holds what it received, parsed."""

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from functools import cached_property

import pytest
from aiosmtpd.controller import Controller

from schoolgate.addons.selectors import get_addon_settings


def free_port() -> int:
    """A TCP port nothing listens on (for now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @cached_property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    def part(self, content_type: str) -> str:
        body = self.message.get_body(preferencelist=(content_type.split("/")[1],))
        return body.get_content() if body is not None else ""


@dataclass
class SMTPServer:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    connections: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _controller: Controller | None = field(default=None, repr=False)

    async def handle_DATA(self, server, session, envelope):
        # Parsed only when a test reads it, so a benchmark measures the sender.
        received = Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        with self._lock:
            self.messages.append(received)
        return "250 Message accepted for delivery"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self._lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    def start(self) -> "SMTPServer":
        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server():
    """A running SMTP server on a free local port; stopped after the test."""
    server = SMTPServer(host="127.0.0.1", port=free_port()).start()
    yield server
    server.stop()


def school_mail_at(server: SMTPServer, *, from_email: str = "office@school.example"):
    """Set up the school's email add-on to use `server` (no TLS, no login)."""
    addon_settings = get_addon_settings()
    addon_settings.smtp_host = server.host
    addon_settings.smtp_port = server.port
    addon_settings.smtp_use_tls = False
    addon_settings.smtp_username = ""
    addon_settings.smtp_password = ""
    addon_settings.from_email = from_email
    addon_settings.save()
    return addon_settings


def platform_mail_at(settings, server: SMTPServer) -> None:
    """Point the platform's default mailer at `server`."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": server.host, "port": server.port, "timeout": 10},
        }
    }
