"""Run a group of processes as one: restart a child that dies (with back-off), and on
SIGTERM or Ctrl-C stop them all, waiting for them to finish, killing stragglers.

Each child runs in its own session, so a Ctrl-C in the terminal reaches only the
supervisor, which passes one SIGTERM on (a second signal would make a task worker
abandon the task it is running). On Linux each child is also told to stop if the
supervisor itself is killed, so no child outlives it."""

import contextlib
import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

logger = logging.getLogger("schoolgate.serve")

# A child that exits sooner than this after starting did not really start.
STARTED_SECONDS = 10
# ...and after this many such exits in a row, before it ever started, the group gives up.
START_ATTEMPTS = 3
# Restart delays: 1, 2, 4 ... seconds, never more than this.
MAX_BACKOFF_SECONDS = 60
POLL_SECONDS = 0.2


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    ever_started: bool = False
    quick_exits: int = 0
    restart_at: float | None = None
    # The child's process group (its own pid, as it leads a new session).
    pgid: int | None = None
    env: dict | None = field(default=None, repr=False)


def _die_with_parent(parent_pid: int):
    """A preexec_fn: ask Linux to send SIGTERM when the supervisor dies."""

    def preexec():
        try:
            import ctypes

            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            return  # not Linux: the supervisor's own stop still stops the children
        if os.getppid() != parent_pid:  # the supervisor died before prctl took effect
            os._exit(1)

    return preexec


class Supervisor:
    def __init__(self, children: list[Child], *, stop_timeout: float = 30.0):
        self.children = children
        self.stop_timeout = stop_timeout
        self.stopping = False
        self.forced = False
        self.exit_code = 0

    # Signals only set flags; the loop does the work.
    def _on_signal(self, signum, frame):
        if self.stopping:
            self.forced = True
        self.stopping = True
        logger.info("Received %s: stopping", signal.Signals(signum).name)

    def start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.command,
            env=child.env,
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
        )
        child.pgid = child.process.pid
        child.started_at = time.monotonic()
        child.restart_at = None
        logger.info("Started %s (pid %s)", child.name, child.process.pid)

    def run(self) -> int:
        """Run until asked to stop or until a child cannot start; the exit code."""
        previous = {
            signum: signal.signal(signum, self._on_signal)
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
        }
        try:
            for child in self.children:
                self.start(child)
            while not self.stopping:
                self._check_children()
                time.sleep(POLL_SECONDS)
        finally:
            self.stop_all()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return self.exit_code

    def _check_children(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.process is None:
                if child.restart_at is not None and now >= child.restart_at:
                    self.start(child)
                continue
            if not child.ever_started and now - child.started_at >= STARTED_SECONDS:
                child.ever_started = True
            code = child.process.poll()
            if code is None:
                continue
            ran = now - child.started_at
            child.process = None
            _kill_group(child)  # anything it left behind
            if ran >= STARTED_SECONDS:
                child.quick_exits = 0
            child.quick_exits += 1
            if not child.ever_started and child.quick_exits >= START_ATTEMPTS:
                logger.error(
                    "%s exited with %s %d times in a row on starting: giving up",
                    child.name,
                    code,
                    child.quick_exits,
                )
                self.exit_code = 1
                self.stopping = True
                return
            delay = min(2 ** (child.quick_exits - 1), MAX_BACKOFF_SECONDS)
            child.restart_at = now + delay
            logger.warning(
                "%s exited with %s after %.0f s: restarting in %d s", child.name, code, ran, delay
            )

    def stop_all(self) -> None:
        """SIGTERM every child, wait up to stop_timeout, then SIGKILL what is left."""
        running = [child for child in self.children if child.process is not None]
        for child in running:
            _signal(child, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while running and time.monotonic() < deadline and not self.forced:
            running = [child for child in running if child.process.poll() is None]
            if running:
                time.sleep(POLL_SECONDS)
        for child in running:
            if child.process.poll() is None:
                logger.warning("%s did not stop in time: killing it", child.name)
        for child in self.children:
            # The whole session: gunicorn's own workers too, whatever state they are in.
            _kill_group(child)
            if child.process is not None:
                child.process.wait()
                child.process = None
        logger.info("Stopped")


def _signal(child: Child, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        child.process.send_signal(signum)


def _kill_group(child: Child) -> None:
    """SIGKILL whatever is left in the child's process group."""
    if child.pgid is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pgid, signal.SIGKILL)
    if child.process is None:
        child.pgid = None
