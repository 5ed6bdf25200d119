"""Staff pages for MIS data: the Data Dashboard, the Sync page and sync reports."""

import re
import tempfile
from pathlib import Path

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from schoolgate.core.access import (
    MANAGE_USERS,
    RUN_SYNC,
    SEE_MIS_DATA,
    capability_required,
    has_capability,
)
from schoolgate.mis.connectors.pull import (
    DATA_SOURCE_FIELDS,
    check_connection,
    configured_source,
    data_source_from,
    save_data_source,
)
from schoolgate.mis.dashboard import LISTS, dashboard_figures, dashboard_rows
from schoolgate.mis.forms import DataSourceForm, SyncForm
from schoolgate.mis.models import DataSource, SyncRun
from schoolgate.mis.snapshot import KINDS, InvalidSource
from schoolgate.mis.sync import (
    HoldRefused,
    confirm_held_sync,
    hold_limits,
    is_outdated,
    sync_mis,
)
from schoolgate.mis.tasks import pull_data_source_task

TEMPLATES_DIR = Path(__file__).resolve().parent / "csv_templates"
CSV_TEMPLATES = ("pupils-contacts.csv", "timetable.csv")
HISTORY_PER_PAGE = 20
HOLD_COUNT_KEYS = ("on_roll_before", "pupils_leaving", "contacts_removed", "accounts_deactivated")
KIND_LABELS = {
    "pupils": gettext_lazy("Pupils"),
    "contacts": gettext_lazy("Contacts"),
    "links": gettext_lazy("Pupil–contact links"),
    "staff": gettext_lazy("Staff"),
    "groups": gettext_lazy("Groups"),
    "memberships": gettext_lazy("Group members"),
    "group_teachers": gettext_lazy("Group teachers"),
}
FORMAT_LABELS = {
    "ctf": gettext_lazy("Common Transfer File (CTF)"),
    "oneroster": gettext_lazy("OneRoster"),
    "csv": gettext_lazy("pupils and contacts CSV"),
    "timetable": gettext_lazy("timetable CSV"),
}


def format_label(source_format: str) -> str:
    """'ctf+timetable' as staff would say it: 'Common Transfer File (CTF) and timetable CSV'."""
    names = [str(FORMAT_LABELS.get(part, part)) for part in source_format.split("+") if part]
    if not names:
        return "–"
    if len(names) == 1:
        return names[0]
    return _("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


# Dashboard figures shown as numbers that open their list, grouped by what they mean.
PROBLEM_LISTS = (
    "pr-no-email",
    "invalid-email",
    "shared-email",
    "pupils-no-account-all",
    "pupils-no-account-primary",
    "not-primary",
)
ACCOUNT_LISTS = ("accounts-all", "accounts-primary")


@capability_required(SEE_MIS_DATA)
def dashboard(request):
    figures = dashboard_figures()

    def cards(slugs):
        return [
            {"slug": slug, "title": LISTS[slug].title, "value": figures[LISTS[slug].figure]}
            for slug in slugs
        ]

    last = figures["last_sync"]
    return render(
        request,
        "mis/dashboard.html",
        {
            "figures": figures,
            "last_sync": last,
            "last_sync_status": SyncRun.Status(last["status"]).label if last else "",
            "problem_cards": cards(PROBLEM_LISTS),
            "account_cards": cards(ACCOUNT_LISTS),
        },
    )


@capability_required(SEE_MIS_DATA)
def dashboard_list(request, slug):
    if slug not in LISTS:
        raise Http404
    page = dashboard_rows(slug=slug, page=request.GET.get("page") or 1)
    kind = (
        "shared" if slug == "shared-email" else "pupil" if slug.startswith("pupils") else "contact"
    )
    return render(
        request,
        "mis/dashboard_list.html",
        {
            "list": LISTS[slug],
            "page": page,
            "kind": kind,
            "can_approve": kind == "shared" and has_capability(request.user, MANAGE_USERS),
        },
    )


@capability_required(RUN_SYNC)
def sync(request):
    posted = request.method == "POST"
    form = SyncForm(request.POST, request.FILES) if posted else SyncForm()
    failed_run = None
    if posted and form.is_valid():
        run = _sync_uploads(
            form.cleaned_data["files"],
            source_format=form.cleaned_data["source_format"] or None,
            user=request.user,
        )
        if run.status == SyncRun.Status.SUCCEEDED:
            messages.success(request, _("The sync succeeded. This is its report."))
            return redirect("mis:sync-report", run_id=run.pk)
        if run.status == SyncRun.Status.HELD:
            return redirect("mis:sync-report", run_id=run.pk)
        failed_run = run
    history = Paginator(SyncRun.objects.select_related("started_by"), HISTORY_PER_PAGE).get_page(
        request.GET.get("page") or 1
    )
    history.object_list = [_history_row(run) for run in history.object_list]
    return render(
        request,
        "mis/sync.html",
        {
            "form": form,
            "failed_run": failed_run,
            "history": history,
            "csv_templates": CSV_TEMPLATES,
        },
    )


def _sync_uploads(files, *, source_format, user) -> SyncRun:
    """Save the uploads under safe names in a temporary folder and sync them together."""
    with tempfile.TemporaryDirectory(prefix="schoolgate-upload-") as folder:
        paths, display_names = [], {}
        for index, upload in enumerate(files):
            original = Path(upload.name).name or f"file-{index + 1}"
            # Keep the extension: it is part of how the format is told apart.
            suffix = re.sub(r"[^a-z0-9.]", "", Path(original).suffix.lower())[:10]
            path = Path(folder) / f"upload-{index + 1}{suffix}"
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            paths.append(path)
            display_names[str(path)] = original
        return sync_mis(
            paths,
            trigger=SyncRun.Trigger.UPLOAD,
            started_by=user,
            source_format=source_format,
            display_names=display_names,
        )


def _history_row(run: SyncRun) -> dict:
    totals = {"added": 0, "changed": 0, "removed": 0}
    for kind_counts in run.counts.values():
        for key in totals:
            totals[key] += kind_counts.get(key, 0)
    return {
        "run": run,
        "started_by": started_by_label(run),
        "duration": duration_label(run.duration_ms),
        **totals,
    }


def duration_label(duration_ms: int | None) -> str:
    if duration_ms is None:
        return ""
    return _("%(seconds)s s") % {"seconds": f"{duration_ms / 1000:.1f}"}


def started_by_label(run: SyncRun) -> str:
    """The person who started a sync, or what did when no person did."""
    if run.started_by_id:
        return str(run.started_by)
    return run.get_trigger_display()


@capability_required(SEE_MIS_DATA, RUN_SYNC)
def sync_report(request, run_id, *, refused: str = ""):
    run = get_object_or_404(SyncRun.objects.select_related("started_by"), pk=run_id)
    counts = [
        {"label": KIND_LABELS[kind], **run.counts.get(kind, {})}
        for kind in KINDS
        if kind in run.counts
    ]
    held = run.status == SyncRun.Status.HELD
    outdated = held and is_outdated(run)
    return render(
        request,
        "mis/sync_report.html",
        {
            "run": run,
            "started_by": started_by_label(run),
            "format": format_label(run.source_format),
            "duration": duration_label(run.duration_ms),
            "counts": [] if run.unchanged else counts,
            "hold": run.hold.get("counts") if held else None,
            "hold_limits": hold_limits(),
            "outdated": outdated,
            "can_confirm": held
            and not outdated
            and bool(run.hold.get("files"))
            and has_capability(request.user, RUN_SYNC),
            "confirmed_by": (run.hold.get("confirmed_by") or {}).get("name", ""),
            "refused": refused,
        },
        status=409 if refused else 200,
    )


@capability_required(RUN_SYNC)
@require_POST
def sync_confirm(request, run_id):
    """Apply a held sync: the counts posted are those the person saw, checked again."""
    run = get_object_or_404(SyncRun, pk=run_id)
    try:
        expected = {key: int(request.POST.get(key, "")) for key in HOLD_COUNT_KEYS}
    except ValueError:
        expected = {}
    try:
        run = confirm_held_sync(run, user=request.user, expected_counts=expected)
    except HoldRefused as refused:
        return sync_report(request, run_id=run.pk, refused=str(refused))
    if run.status == SyncRun.Status.SUCCEEDED:
        messages.success(request, _("The sync was confirmed and applied. This is its report."))
    return redirect("mis:sync-report", run_id=run.pk)


@capability_required(RUN_SYNC)
def csv_template(request, name):
    if name not in CSV_TEMPLATES:
        raise Http404
    return FileResponse(
        (TEMPLATES_DIR / name).open("rb"),
        as_attachment=True,
        filename=name,
        content_type="text/csv; charset=utf-8",
    )


@capability_required(RUN_SYNC)
def data_source(request):
    """Choose files, a OneRoster API or Wonde; test the connection; the daily pull times."""
    saved = DataSource.load()
    found = None
    test_problems = []
    if request.method == "POST":
        form = DataSourceForm(request.POST, saved=saved)
        action = request.POST.get("action", "save")
        if action == "pull":
            if saved.kind != DataSource.Kind.FILES:
                pull_data_source_task.enqueue()
                messages.success(
                    request,
                    _("A pull has started. Its report appears in the sync history when it ends."),
                )
            return redirect("mis:data-source")
        if form.is_valid():
            candidate = data_source_from(form.cleaned_data, saved=saved)
            if action == "test":
                source = configured_source(candidate)
                if source is None:
                    form.add_error("kind", _("Choose OneRoster API or Wonde to test a connection"))
                else:
                    try:
                        found = check_connection(source)
                    except InvalidSource as error:
                        test_problems = [str(p) for p in error.problems]
            else:
                save_data_source(form.cleaned_data)
                messages.success(request, _("The data source settings are saved."))
                return redirect("mis:data-source")
    else:
        initial = {name: getattr(saved, name) for name in DATA_SOURCE_FIELDS}
        form = DataSourceForm(initial=initial, saved=saved)
    return render(
        request,
        "mis/data_source.html",
        {
            "form": form,
            "saved": saved,
            "found": found,
            "test_problems": test_problems,
            "last_run": saved.last_run,
        },
    )
