"""The local stack's queue of public-request jobs: a folder under $KEYPORT_HOME the runner drains into the worker."""

import dataclasses
import os

import pytest

from chalicelib import job_queue
from chalicelib.config import get_settings
from tests.helpers import make_user


@pytest.fixture
def local_jobs(tmp_path, monkeypatch):
    settings = dataclasses.replace(get_settings(), export_queue_url=None, keyport_home=str(tmp_path))
    monkeypatch.setattr(job_queue, "get_settings", lambda: settings)
    return tmp_path


def test_queued_jobs_are_taken_oldest_first_only_once_from_a_private_folder(local_jobs):
    for email in ("b@example.com", "a@example.com"):
        job_queue.enqueue_job("password_reset", {"email": email})
    assert [body for body in job_queue.take_local_jobs()] == [
        '{"job": "password_reset", "email": "b@example.com"}',
        '{"job": "password_reset", "email": "a@example.com"}',
    ]
    assert job_queue.take_local_jobs() == []
    assert oct(os.stat(local_jobs / "job-queue").st_mode & 0o777) == "0o700"


def test_the_local_runner_hands_a_queued_reset_to_the_worker_which_mails_it(local_jobs, mailbox):
    import app
    from chalicelib.local import run_local_jobs
    from chalicelib.services.accounts.password_reset import request_password_reset

    make_user(email="ada@example.com")
    request_password_reset("ada@example.com")
    assert mailbox.messages() == []
    assert run_local_jobs(app) == 1
    [message] = mailbox.messages()
    assert message["To"] == "ada@example.com" and message["X-Keyport-Mail-Type"] == "password_reset"
