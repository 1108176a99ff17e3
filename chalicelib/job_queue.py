"""Background jobs of public requests (mails whose sending must not be timed from outside) on the worker queue.

They share the export queue and its worker: an SQS message {"job": kind, ...} on AWS (exports' messages carry
"export_id" instead), a file in a queue folder under $KEYPORT_HOME on the local stack, taken by the local runner.
"""

import functools
import json
import os
import time
from typing import Any, Dict, List

from chalicelib.config import get_settings


@functools.lru_cache(maxsize=1)
def _sqs() -> Any:  # boto3 clients are untyped here (no stubs installed)
    import boto3

    return boto3.client("sqs", region_name=get_settings().region)


def _local_dir() -> str:
    path = os.path.join(get_settings().keyport_home, "job-queue")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def enqueue_job(kind: str, payload: Dict[str, Any]) -> None:
    """Hand one job to the worker: the same single write whatever the payload holds."""
    body = json.dumps({"job": kind, **payload})
    settings = get_settings()
    if settings.export_queue_url:
        _sqs().send_message(QueueUrl=settings.export_queue_url, MessageBody=body)
        return
    path = os.path.join(_local_dir(), f"{time.time_ns():020d}-{kind}.json")  # sorts by time
    fd = os.open(path + ".part", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # it may hold personal data
    with os.fdopen(fd, "w") as handle:
        handle.write(body)
    os.replace(path + ".part", path)  # the worker never sees half a message


def take_local_jobs() -> List[str]:
    """The local worker's turn: the queued message bodies oldest first, each taken off the folder exactly once."""
    folder = _local_dir()
    taken = []
    for name in sorted(name for name in os.listdir(folder) if name.endswith(".json")):
        path = os.path.join(folder, name)
        try:
            with open(path) as handle:
                body = handle.read()
            os.remove(path)
        except FileNotFoundError:  # another worker took it
            continue
        taken.append(body)
    return taken
