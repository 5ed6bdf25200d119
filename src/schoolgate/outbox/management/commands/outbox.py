"""`schoolgate outbox send [--loop]`: drain the outbox without a task worker."""

import time

from django.core.management.base import BaseCommand

from schoolgate.outbox import sending


class Command(BaseCommand):
    help = "Send queued email now (useful without a worker, and for benchmarks)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        send = actions.add_parser("send", help="Send every message that is due.")
        send.add_argument("--loop", action="store_true", help="Keep sending as messages fall due.")
        send.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between checks with --loop."
        )
        send.add_argument("--batch-size", type=int, default=sending.BATCH_SIZE)

    def handle(self, *args, action, loop=False, interval=5.0, batch_size=sending.BATCH_SIZE, **_):
        while True:
            started = time.perf_counter()
            counts = sending.drain(batch_size=batch_size)
            seconds = time.perf_counter() - started
            if counts["sent"] or counts["retrying"] or counts["failed"] or not loop:
                self.stdout.write(
                    f"{counts['sent']} sent, {counts['retrying']} to retry, "
                    f"{counts['failed']} failed in {seconds:.2f} s"
                )
            if not loop:
                return
            time.sleep(interval)
