"""Answers worked out once per web request (docs/architecture.md, rule 10: who the user is
and which pupils they may see is computed once per request and handed down).

A memo lives from request_started to request_finished in the thread serving the request,
so no process ever answers one request from another's data. Outside a request (tasks,
commands) nothing is kept: every call works its answer out afresh. Whatever changes what a
memo holds within a request (a sync, a settings save) calls `forget`.
"""

import threading

from django.core.signals import request_finished, request_started

_state = threading.local()


def remembered(key, compute):
    """compute(), once per request for each key (every time outside a request)."""
    memo = getattr(_state, "memo", None)
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def forget(prefix=None) -> None:
    """Drop what is remembered (only the keys whose first item is `prefix`, when given)."""
    memo = getattr(_state, "memo", None)
    if memo is None:
        return
    if prefix is None:
        memo.clear()
    else:
        for key in [k for k in memo if isinstance(k, tuple) and k and k[0] == prefix]:
            del memo[key]


def _start(**kwargs) -> None:
    _state.memo = {}


def _end(**kwargs) -> None:
    _state.memo = None


request_started.connect(_start, dispatch_uid="core-request-memo-start")
request_finished.connect(_end, dispatch_uid="core-request-memo-end")
