"""gunicorn, run inside `schoolgate web` with options from the settings (environment)."""

import logging
import os

from django.conf import settings
from gunicorn import glogging
from gunicorn.app.base import BaseApplication

MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """gunicorn's usual 2 × cores + 1, capped: each worker holds a database connection."""
    return min(2 * (os.cpu_count() or 1) + 1, MAX_DEFAULT_WORKERS)


def server_settings() -> dict:
    server = getattr(settings, "SERVER", {})
    return {
        "host": server.get("HOST", "127.0.0.1"),
        "port": server.get("PORT", 8000),
        "workers": server.get("WEB_CONCURRENCY") or default_workers(),
        "threads": server.get("WEB_THREADS", 1),
        "timeout": server.get("WEB_TIMEOUT", 120),
        "task_workers": server.get("TASK_WORKERS", 1),
    }


class DjangoLogger(glogging.Logger):
    """gunicorn's own messages go through Django's logging: JSON lines in production."""

    def setup(self, cfg):
        super().setup(cfg)
        for handler in list(self.error_log.handlers):
            if getattr(handler, "_gunicorn", False):
                self.error_log.removeHandler(handler)
        self.error_log.propagate = True
        self.error_log.setLevel(logging.INFO)


class WebServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from django.core.wsgi import get_wsgi_application

        return get_wsgi_application()


def run_web(*, host: str, port: int, workers: int, threads: int = 1, timeout: int = 120) -> None:
    """Serve until stopped (SIGTERM: finish requests in flight, then exit)."""
    WebServer(
        {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            # Large MIS files are synced within the upload request.
            "timeout": timeout,
            "graceful_timeout": 20,
            # Recycle workers now and then so that a slow leak never grows.
            "max_requests": 2000,
            "max_requests_jitter": 200,
            "proc_name": "schoolgate-web",
            "logger_class": DjangoLogger,
            "errorlog": "-",
            # gunicorn's control socket is one path per user: two servers would clash.
            "control_socket_disable": True,
            # X-Forwarded-Proto is honoured from FORWARDED_ALLOW_IPS (gunicorn's own
            # variable, default 127.0.0.1), so a local reverse proxy needs nothing set.
        }
    ).run()
