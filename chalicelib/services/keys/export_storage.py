"""Where export jobs wait and their files live: SQS and S3 (SSE-KMS) on AWS; a queue folder and encrypted files
under $KEYPORT_HOME on the local stack, where the local runner's worker takes the jobs."""

import functools
import json
import os
import time
from typing import Any, List, Optional

from chalicelib import crypto
from chalicelib.config import get_settings

URL_SECONDS = 300  # a presigned download link lives 5 minutes


@functools.lru_cache(maxsize=1)
def _sqs() -> Any:  # boto3 clients are untyped here (no stubs installed)
    import boto3

    return boto3.client("sqs", region_name=get_settings().region)


@functools.lru_cache(maxsize=1)
def _s3() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", region_name=get_settings().region, config=Config(signature_version="s3v4"))


def _local_dir(name: str) -> str:
    path = os.path.join(get_settings().keyport_home, name)
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def enqueue(export_id: str) -> None:
    """Hand a job to the worker: an SQS message, or a file in the local queue folder."""
    settings = get_settings()
    if settings.export_queue_url:
        _sqs().send_message(QueueUrl=settings.export_queue_url, MessageBody=json.dumps({"export_id": export_id}))
        return
    path = os.path.join(_local_dir("export-queue"), f"{time.time_ns():020d}-{export_id}.json")  # sorts by time
    with open(path + ".part", "w") as handle:
        json.dump({"export_id": export_id}, handle)
    os.replace(path + ".part", path)  # the worker never sees half a message


def take_local_jobs() -> List[str]:
    """The local worker's turn: the queued ids oldest first, each taken off the folder exactly once."""
    folder = _local_dir("export-queue")
    taken = []
    for name in sorted(name for name in os.listdir(folder) if name.endswith(".json")):
        try:
            os.remove(os.path.join(folder, name))
        except FileNotFoundError:  # another worker took it
            continue
        taken.append(name[: -len(".json")].split("-", 1)[1])
    return taken


def _object_key(export_id: str) -> str:
    return f"exports/{export_id}"


def _local_path(export_id: str) -> str:
    return os.path.join(_local_dir("exports"), export_id + ".sealed")


def store(export_id: str, path: str, media_type: str, file_name: str) -> None:
    """Keep a finished file: S3 with SSE-KMS, or sealed with the local wrapping key (written whole, then renamed)."""
    settings = get_settings()
    if settings.export_bucket:
        extra = {
            "ServerSideEncryption": "aws:kms",
            "ContentType": media_type,
            "ContentDisposition": f'attachment; filename="{file_name}"',
        }
        if settings.kms_key_arn:
            extra["SSEKMSKeyId"] = settings.kms_key_arn
        _s3().upload_file(path, settings.export_bucket, _object_key(export_id), ExtraArgs=extra)
        return
    with open(path, "rb") as handle:
        sealed = crypto.seal_file(handle.read(), export_id)
    target = _local_path(export_id)
    fd = os.open(target + ".part", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(sealed)
    os.replace(target + ".part", target)


def download_url(export_id: str, file_name: str) -> Optional[str]:
    """A presigned S3 GET valid URL_SECONDS; None on the local stack (the API answers the file itself)."""
    settings = get_settings()
    if not settings.export_bucket:
        return None
    return _s3().generate_presigned_url(
        "get_object",
        ExpiresIn=URL_SECONDS,
        Params={
            "Bucket": settings.export_bucket,
            "Key": _object_key(export_id),
            "ResponseContentDisposition": f'attachment; filename="{file_name}"',
        },
    )


def read_local(export_id: str) -> bytes:
    """The plaintext of a locally kept file."""
    with open(_local_path(export_id), "rb") as handle:
        return crypto.open_file(handle.read(), export_id)


def delete(export_id: str) -> None:
    """Remove a file wherever it is kept (missing is fine)."""
    settings = get_settings()
    if settings.export_bucket:
        _s3().delete_object(Bucket=settings.export_bucket, Key=_object_key(export_id))
        return
    for path in (_local_path(export_id), _local_path(export_id) + ".part"):
        if os.path.exists(path):
            os.remove(path)
