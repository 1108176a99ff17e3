"""Counting AWS calls with a botocore event hook (tests and `make bench`)."""

import collections
import contextlib

import botocore.session


@contextlib.contextmanager
def count_kms_calls():
    """Count KMS operations made by any botocore client while inside: {"GenerateDataKey": n, ...}."""
    calls = collections.Counter()

    def hook(model, **_):
        calls[model.name] += 1

    # Clients register on their own session's emitter; hooking the class-level register covers new sessions.
    original = botocore.session.Session.create_client

    def create_client(self, *args, **kwargs):
        client = original(self, *args, **kwargs)
        if client.meta.service_model.service_name == "kms":
            client.meta.events.register("before-call.kms", hook)
        return client

    botocore.session.Session.create_client = create_client
    try:
        yield calls
    finally:
        botocore.session.Session.create_client = original
