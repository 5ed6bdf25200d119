"""Fixtures for outbox tests: a real SMTP server (see schoolgate.outbox.testing)."""

import pytest

from schoolgate.outbox.testing import SMTPServer, school_mail_at, smtp_server

__all__ = ["smtp_server", "school_mail"]


@pytest.fixture
def school_mail(smtp_server: SMTPServer) -> SMTPServer:
    """The school's email add-on set up to send through a real local SMTP server."""
    school_mail_at(smtp_server)
    return smtp_server
