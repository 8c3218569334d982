"""What operators see of the running processes: request ids, structured logs, metrics.

Every request gets an id (a sane `X-Request-ID` it came with, or a new one) held in a context
variable for as long as it is answered: every log line written meanwhile carries it, and so
do the jobs it queues (`consult.jobs` hands it to the worker with the job), whose lines carry
it too. Logs are text or one JSON object a line (`CONSULT_LOG_FORMAT`).

Metrics go through the standard Prometheus client. Its objects are made on first use, after
:func:`configure_metrics` has said whether the processes of a machine share a folder
(`CONSULT_METRICS_DIRECTORY`, the client's multiprocess mode), so that web processes and
workers add up in one `/metrics`.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import re
import socket
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

    from consult.settings import Settings

REQUEST_ID: ContextVar[str | None] = ContextVar("consult_request_id", default=None)
# What an incoming X-Request-ID may be to be kept: the ids proxies and tracers make (UUIDs,
# hex, base64url, dotted or colon-separated) and nothing that could forge a log line.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{8,128}")
# Attributes every log record has: the others were passed in `extra` and are logged too.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}

REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


def sane_request_id(value: str | None) -> str | None:
    """`value` when it is a request id worth keeping, else None."""
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return None


def new_request_id() -> str:
    """A fresh request id (32 hexadecimal digits)."""
    return os.urandom(16).hex()


def current_request_id() -> str | None:
    """The id of the request (or of the request that queued the job) being handled."""
    return REQUEST_ID.get()


class RequestIdFilter(logging.Filter):
    """Gives every record the current request id (`-` outside any request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, then the extras."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get() if request_id in (None, "-") else request_id,
            "process": record.process,
        }
        for name, value in record.__dict__.items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                entry[name] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def logging_config(settings: Settings) -> dict[str, Any]:
    """The `logging.config.dictConfig` of a process: the root logger writes to standard error
    in the chosen format, each line with its request id; uvicorn's loggers pass through it and
    its access log is replaced by the one line a request the web layer writes."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"}
        if settings.log_format == "json"
        else {"format": TEXT_FORMAT}
    )
    level = settings.log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"consult": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "consult",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            "arq": {"level": level, "handlers": [], "propagate": True},
        },
    }


def configure_logging(settings: Settings) -> None:
    """Apply :func:`logging_config` to this process."""
    logging.config.dictConfig(logging_config(settings))


_metrics_directory: str | None = None


def configure_metrics(directory: str) -> None:
    """Share metrics through `directory` (every process of the machine writes its own files
    there; `/metrics` adds them up), or keep them in the process when it is empty.

    Takes effect only before the first metric is made in this process.
    """
    global _metrics_directory
    if _metrics_directory is not None or not directory:
        return
    os.makedirs(directory, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    from prometheus_client import values

    # Each file is named after the process that writes it: the host name keeps two containers
    # sharing one folder (each with its own process ids) from writing to the same file.
    host = socket.gethostname().replace("_", "-")
    values.ValueClass = values.MultiProcessValue(  # type: ignore[no-untyped-call]
        lambda: f"{host}-{os.getpid()}"
    )
    _metrics_directory = directory


def metrics_directory() -> str | None:
    """The folder metrics are shared through, if any."""
    return _metrics_directory


@dataclass(frozen=True)
class Metrics:
    """The metrics every process updates."""

    request_seconds: Histogram
    responses: Counter
    job_seconds: Histogram


@cache
def metrics() -> Metrics:
    """The process's metrics, made on first use."""
    from prometheus_client import Counter, Histogram

    return Metrics(
        request_seconds=Histogram(
            "consult_http_request_duration_seconds",
            "Time to answer a request, by method and route template.",
            ["method", "route"],
            buckets=REQUEST_BUCKETS,
        ),
        responses=Counter(
            "consult_http_responses",
            "Responses, by method, route template and status code.",
            ["method", "route", "status"],
        ),
        job_seconds=Histogram(
            "consult_job_duration_seconds",
            "Time a background job ran, by job and outcome (ok, failed).",
            ["job", "outcome"],
            buckets=JOB_BUCKETS,
        ),
    )


class Stopwatch:
    """Seconds since it was made (monotonic)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started
