"""E2E tier: the real `make run` stack as a process, spoken to over HTTP."""

import email
import email.policy
import os
import queue
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from chalicelib.local import PROJECT_DIR, free_port

SHOTS = Path(PROJECT_DIR) / "test-output" / "browser"


class LocalStack:
    """`make run` on free ports with its own KEYPORT_HOME; output collected line by line."""

    command = ["make", "--no-print-directory", "run"]

    def __init__(self, home, port=None, env=None):
        self.home, self.port = str(home), port or free_port()
        self.extra_env = env or {}
        self.lines, self._queue, self.process = [], queue.Queue(), None

    @property
    def url(self):
        """The API's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=120):
        """Start `make run` and wait until /health answers."""
        env = {**os.environ, "PORT": str(self.port), "KEYPORT_HOME": self.home, **self.extra_env}
        for name in (
            "KEYPORT_STAGE",
            "KEYPORT_TABLE_PREFIX",
            "KEYPORT_PUBLIC_BASE_URL",
            "KEYPORT_DYNAMODB_ENDPOINT",
            "KEYPORT_EXPORT_QUEUE_URL",
            "KEYPORT_EXPORT_BUCKET",
        ):
            env.pop(name, None)  # the test tier's settings must not leak into the stack
        self.process = subprocess.Popen(
            self.command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("make run stopped:\n" + self.output())
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        self.stop()
        raise AssertionError("make run did not serve in time:\n" + self.output())

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self):
        """Everything the stack printed so far."""
        return "\n".join(self.lines)

    def printed(self, pattern):
        """The first group of the first printed line matching the pattern, or None."""
        for line in self.lines:
            match = re.search(pattern, line)
            if match:
                return match.group(1)
        return None

    def stop(self, timeout=30):
        """Ctrl-C, as a person would: SIGINT to the whole process group; answer the exit code."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise

    def processes_left(self):
        """Processes still alive in the stack's process group, or mentioning its KEYPORT_HOME."""
        listing = subprocess.run(["ps", "-eo", "pid,pgid,args"], capture_output=True, text=True).stdout
        return [
            line for line in listing.splitlines()[1:] if line.split()[1] == str(self.process.pid) or self.home in line
        ]


@pytest.fixture
def local_stack(tmp_path):
    """A started stack, stopped (and checked for leftovers) after the test."""
    stacks = []

    def _start(**env):
        stack = LocalStack(tmp_path / "home", env=env).start()
        stacks.append(stack)
        return stack

    yield _start
    for stack in stacks:
        if stack.process.poll() is None:
            stack.stop()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's package) driven by playwright, one per test process: each test opens its own
    pages (a new page is a new context: no cookie crosses tests)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-quic",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


def outbox_texts(stack, mail_type):
    """The plain-text parts of the outbox mails of one type, oldest first."""
    texts = []
    for eml in sorted((Path(stack.home) / "outbox").glob(f"*-{mail_type}-*.eml")):
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        texts.append(message.get_body(preferencelist=("plain",)).get_content())
    return texts


def mailed_link(stack, mail_type, pattern, deadline=10):
    """The first http link in an outbox mail of the type whose text contains the pattern."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        for text in outbox_texts(stack, mail_type):
            match = re.search(rf"(http://\S*{pattern}\S*)", text)
            if match:
                return match.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no {mail_type} mail matching {pattern} in the outbox")
