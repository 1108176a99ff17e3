"""Structured logs and metrics through aws-lambda-powertools: every `keyport.*` log record is one JSON line
carrying the request id, and the counters below go out as CloudWatch EMF lines at the end of each invocation
(namespace keyport-<stage>, one dimension service=keyport). On a laptop stage the EMF lines print to stdout too:
nothing reads them there, and the same code path runs everywhere."""

import functools
import logging
import sys
from typing import Any, Callable, Optional, TextIO

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.config import StageMisconfigured, check_stage, get_settings

SERVICE = "keyport"
METRICS = frozenset(
    {"LoginSucceeded", "LoginFailed", "DevicesClaimed", "KeysDownloaded", "ExportsCompleted", "MailsFailed"}
)


class _CurrentStdout(logging.StreamHandler):
    """A stream handler writing to whatever sys.stdout is when a record is emitted: Lambda never swaps it, but the
    test runner does per test, and a handler holding the first one would write into a closed capture."""

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


@functools.lru_cache(maxsize=1)
def metrics() -> Metrics:
    """The process's metrics, made on first use: reading the settings at import would fix them before the CLI (or a
    test) has completed the environment."""
    return Metrics(namespace=get_settings().metrics_namespace, service=SERVICE)


@functools.lru_cache(maxsize=1)
def function_logger() -> Logger:
    """The JSON logger of a function: the "keyport" logger, so every keyport.* record goes through it. Only the
    functions (app.py) set it up; the CLI, importing the same services, keeps its plain output."""
    return Logger(service=SERVICE, logger_handler=_CurrentStdout())


def count_metric(name: str, value: int = 1) -> None:
    """Add to one of keyport's counters; it is sent when the invocation ends."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}")
    if value:
        metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush_metrics() -> None:
    """Print the counted metrics as one EMF line and start afresh (nothing when nothing was counted)."""
    if metrics().metric_set:
        metrics().flush_metrics()


def observe_invocation(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware of every function (API, worker, hourly jobs): log records carry the request id while
    the invocation runs, and its metrics are flushed when it ends, whatever the outcome."""
    logger = function_logger()
    logger.append_keys(request_id=request_id_of(event), function_request_id=_function_request_id(event))
    try:
        return get_response(event)
    finally:
        logger.remove_keys(["request_id", "function_request_id"])
        flush_metrics()


def request_id_of(event: Any) -> Optional[str]:
    """API Gateway's id of an API request (its X-Request-Id header), Lambda's own for any other event."""
    api_context = getattr(event, "context", None)
    from_gateway = api_context.get("requestId") if isinstance(api_context, dict) else None
    return from_gateway or _function_request_id(event)


def _function_request_id(event: Any) -> Optional[str]:
    lambda_context = getattr(event, "lambda_context", None) or getattr(event, "context", None)
    return getattr(lambda_context, "aws_request_id", None)


def start_function() -> None:
    """The cold start of a function: JSON logs, then, on Lambda with a deployed stage, a missing or laptop-pointing
    setting stops it with one log line naming every problem, before it serves anything (SystemExit prints no
    traceback)."""
    logger = function_logger()
    settings = get_settings()
    if not (settings.in_lambda and settings.deployed):
        return
    try:
        check_stage(settings)
    except StageMisconfigured as problem:
        logger.critical(str(problem))
        raise SystemExit(1) from None
