"""Parent accounts at scale: generate the accounts of a generated school, then send
their invitations through a local SMTP server, one connection per worker.

    SCHOOLGATE_DATA_DIR=/tmp/bench-accounts .venv/bin/python bench/accounts.py \\
        [--pupils 50000] [--send 4000] [--workers 2]

The school comes from `schoolgate generate_school` and is loaded by the real sync
(skipped when the mirror already holds that many pupils). The run uses its own
database: a SQLite file under SCHOOLGATE_DATA_DIR (a temp dir by default), or
DATABASE_URL when set, and deletes the accounts and outbox rows it made before it
starts. Prints accounts/s and emails/s. Run by hand, never inside the test suite."""

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schoolgate.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Large schools are past the sync's read limits (docs/sync.md, "Limits"): lift them.
    os.environ.setdefault("MIS_IMPORT_MAX_MB", "2000")
    os.environ.setdefault("MIS_FILE_MAX_MB", "1000")
    os.environ.setdefault("MIS_IMPORT_MAX_ROWS", "10000000")
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mode", choices=("all", "primary"), default="all")
    parser.add_argument(
        "--send", type=int, default=4000, help="invitations to send (0: every one queued)"
    )
    parser.add_argument("--workers", type=int, default=2, help="sending processes")
    args = parser.parse_args()

    os.environ.setdefault("SCHOOLGATE_DATA_DIR", tempfile.mkdtemp(prefix="bench-accounts-"))
    setup_django()
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection

    from schoolgate.accounts.access import access_pairs
    from schoolgate.accounts.generation import generate_accounts, preview_generation
    from schoolgate.accounts.models import AuditEntry, User
    from schoolgate.addons.selectors import get_addon_settings
    from schoolgate.mis.models import Pupil
    from schoolgate.outbox.models import OutboxMessage
    from schoolgate.outbox.testing import SMTPServer, free_port, school_mail_at

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    load_school(pupils=args.pupils, seed=args.seed)
    print(f"mirror: {Pupil.objects.filter(on_roll=True).count():,} pupils on roll")

    OutboxMessage.objects.all().delete()
    AuditEntry.objects.all().delete()
    User.objects.filter(is_staff=False).delete()
    addon_settings = get_addon_settings()
    addon_settings.parent_group, _ = Group.objects.get_or_create(name="MIS Parent")
    addon_settings.save()

    started = time.perf_counter()
    previews = preview_generation()
    print(f"preview of both modes (the MIS Accounts page): {time.perf_counter() - started:.2f} s")

    started, cpu = time.perf_counter(), time.process_time()
    result = generate_accounts(mode=args.mode, actor_label="bench")
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert result.created == previews[args.mode].created, (result, previews)
    print(
        f"generated {result.created:,} accounts and queued {result.invited:,} invitations "
        f"in {took:.2f} s: {result.created / took:,.0f} accounts/s "
        f"(10,000 accounts in {10000 / (result.created / took):.1f} s)"
    )
    # The machine is shared: CPU time says what the code costs whatever else runs.
    print(f"  CPU time {cpu:.2f} s: {result.created / cpu:,.0f} accounts per CPU second")
    print(f"  counts: {result.as_dict()}")

    started = time.perf_counter()
    pairs = access_pairs(emails=User.objects.values("email"))
    print(
        f"access before/after a sync (one side): {len(pairs):,} pairs "
        f"in {time.perf_counter() - started:.2f} s"
    )

    started = time.perf_counter()
    again = generate_accounts(mode=args.mode, actor_label="bench")
    print(
        f"generating again (no new starters): created {again.created}, "
        f"{time.perf_counter() - started:.2f} s"
    )

    server = SMTPServer(host="127.0.0.1", port=free_port()).start()
    try:
        school_mail_at(server)
        to_send = args.send or OutboxMessage.objects.count()
        sent, took = send_in_workers(to_send, workers=args.workers)
    finally:
        server.stop()
    if sent != to_send or len(server.messages) != to_send:
        sys.exit(f"expected {to_send} sent, got {sent} and {len(server.messages)} received")
    print(
        f"sent {sent:,} invitations in {took:.2f} s with {args.workers} worker(s), "
        f"{server.connections} SMTP connection(s): {sent / took:,.0f} emails/s"
    )


def load_school(*, pupils: int, seed: int) -> None:
    """Generate the school's MIS files and sync them, unless the mirror already has it."""
    from schoolgate.mis.models import Pupil, SyncRun
    from schoolgate.mis.sync import sync_mis

    if Pupil.objects.filter(on_roll=True).count() == pupils:
        return
    from django.core.management import call_command

    outdir = Path(os.environ["SCHOOLGATE_DATA_DIR"]) / f"school-{pupils}"
    started = time.perf_counter()
    call_command("generate_school", str(outdir), pupils=pupils, seed=seed, verbosity=0)
    print(f"generate_school --pupils {pupils}: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    run = sync_mis(sorted(outdir.iterdir()), trigger=SyncRun.Trigger.COMMAND)
    if run.status != SyncRun.Status.SUCCEEDED:
        sys.exit(f"the sync failed: {run.errors}")
    print(f"sync: {time.perf_counter() - started:.1f} s")


def send_in_workers(count: int, *, workers: int) -> tuple[int, float]:
    """Each worker claims its share and sends it over one SMTP connection."""
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("spawn")
    ready, go = context.Barrier(workers + 1), context.Event()
    results = context.Queue()
    shares = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
    processes = [
        context.Process(target=worker, args=(share, ready, go, results)) for share in shares
    ]
    for process in processes:
        process.start()
    ready.wait()  # every worker has Django loaded
    started = time.perf_counter()
    go.set()
    sent = sum(results.get() for _ in processes)
    took = time.perf_counter() - started
    for process in processes:
        process.join()
    return sent, took


def worker(share: int, ready, go, results) -> None:
    setup_django()
    from schoolgate.outbox import sending

    ready.wait()
    go.wait()
    token, messages = sending.claim_batch(limit=share)
    counts = sending.send_batch(token=token, messages=messages)
    results.put(counts["sent"])


if __name__ == "__main__":
    main()
