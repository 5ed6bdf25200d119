"""Email throughput: queue N messages, then send them through a local aiosmtpd server.

    SCHOOLGATE_DATA_DIR=/tmp/bench-email .venv/bin/python bench/outbox.py [--count 2000]

Uses its own SQLite file under SCHOOLGATE_DATA_DIR (or DATABASE_URL when set) and
deletes the outbox rows it wrote. Prints queueing and sending rates in emails/s.
Run by hand, never inside the test suite."""

import argparse
import os
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=0,
        help="messages per claim and connection (default: all of them, one connection)",
    )
    args = parser.parse_args()

    os.environ.setdefault("SCHOOLGATE_DATA_DIR", tempfile.mkdtemp(prefix="bench-email-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schoolgate.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    from schoolgate.addons.selectors import get_addon_settings
    from schoolgate.outbox import sending
    from schoolgate.outbox.models import OutboxMessage
    from schoolgate.outbox.services import queue_emails
    from schoolgate.outbox.testing import SMTPServer, free_port, school_mail_at

    call_command("migrate", verbosity=0)
    OutboxMessage.objects.all().delete()
    server = SMTPServer(host="127.0.0.1", port=free_port()).start()
    saved = get_addon_settings()
    try:
        school_mail_at(server)
        specs = [
            {
                "to": f"parent{n}@example.org",
                "template": "addons_test",
                "context": {"sender_description": f"Message {n} of the benchmark."},
            }
            for n in range(args.count)
        ]
        started = time.perf_counter()
        queue_emails(specs)
        queued_in = time.perf_counter() - started

        started = time.perf_counter()
        counts = sending.drain(batch_size=args.batch_size or args.count)
        sent_in = time.perf_counter() - started
    finally:
        server.stop()
        saved.save()  # put the school's own mail settings back
        OutboxMessage.objects.all().delete()

    if counts["sent"] != args.count or len(server.messages) != args.count:
        sys.exit(f"expected {args.count} sent, got {counts} and {len(server.messages)} received")
    rate = args.count / queued_in
    print(f"queued {args.count} emails in {queued_in:.2f} s: {rate:,.0f} emails/s")
    print(
        f"sent {args.count} emails in {sent_in:.2f} s over {server.connections} SMTP "
        f"connection(s): {args.count / sent_in:,.0f} emails/s"
    )


if __name__ == "__main__":
    main()
