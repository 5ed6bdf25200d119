"""Fixtures for add-on tests: a real SMTP server (see schoolgate.outbox.testing)."""

from schoolgate.outbox.testing import smtp_server

__all__ = ["smtp_server"]
