"""The service figures of `make bench` (scripts/bench.py runs them): cold import, login, a catalog page at 100 and
100,000 devices, the invitation expiry job. Each answers a dict for bench/results.json."""

import os
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = ("aws_encryption_sdk", "argon2", "jinja2", "moto", "jwcrypto", "jsonschema")
LIBRARIES = "import chalice, pynamodb.models, boto3, aws_encryption_sdk, argon2, jinja2, jsonschema, jwcrypto.jwe"


def _median_seconds(code: str, runs: int = 7) -> float:
    timer = f"import time; _t = time.perf_counter(); {code}; print(time.perf_counter() - _t)"
    env = {**os.environ, "KEYPORT_STAGE": "dev"}
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", timer], cwd=ROOT, env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    ]
    return round(statistics.median(samples), 3)


def cold_import() -> dict:
    """`import app` in 7 fresh processes (median), next to importing its libraries eagerly in the same run; and
    which heavy libraries `import app` left unloaded."""
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, app; print(' '.join(sorted(set(m.split('.')[0] for m in sys.modules))))"],
        cwd=ROOT,
        env={**os.environ, "KEYPORT_STAGE": "dev"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        "import_app_s": _median_seconds("import app"),
        "libraries_eagerly_s": _median_seconds(LIBRARIES),
        "heavy_loaded_by_import_app": [name for name in HEAVY if name in probe],
    }


def first_table_calls(endpoint: str, prefix: str, tables: int = 8, runs: int = 5) -> dict:
    """A fresh process's first call on each of 8 tables (what a cold Lambda's first requests pay for connections),
    median of 5 processes; and the same calls once more in that process."""
    code = (
        f"import time; from chalicelib import models; models.bind(host={endpoint!r}, prefix={prefix!r})\n"
        f"def calls():\n    t = time.perf_counter()\n    for m in models.ALL_MODELS[:{tables}]: m.count()\n"
        "    return time.perf_counter() - t\nprint(calls(), calls())"
    )
    env = {**os.environ, "KEYPORT_STAGE": "dev", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    samples = [
        tuple(
            map(
                float,
                subprocess.run(
                    [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
                ).stdout.split(),
            )
        )
        for _ in range(runs)
    ]
    return {
        "tables": tables,
        "first_calls_s": round(statistics.median(first for first, _ in samples), 3),
        "again_s": round(statistics.median(again for _, again in samples), 3),
    }


def login_latency(runs: int = 30) -> dict:
    """The login service with the production argon2id parameters (64 MiB, t=3, p=4), on DynamoDB Local."""
    from chalicelib.services.accounts.own_account import log_in
    from tests.helpers import make_user

    make_user(email="bench-login@example.com", password="Bench-Login-Passw0rd!")
    samples = []
    tracemalloc.start()
    for _ in range(runs):
        started = time.perf_counter()
        log_in("bench-login@example.com", "Bench-Login-Passw0rd!")
        samples.append(time.perf_counter() - started)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    samples.sort()
    return {
        "logins": runs,
        "p50_ms": round(samples[len(samples) // 2] * 1000),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1] * 1000),
        "python_peak_mib": round(peak / 2**20, 1),
        "note": "argon2id's 64 MiB are allocated in C, outside tracemalloc",
    }


def _fill_devices(start: int, stop: int, writers: int = 4) -> None:
    from chalicelib.models import DeviceModel

    now = datetime.now(timezone.utc)

    def write(first: int) -> None:
        with DeviceModel.batch_write() as batch:
            for n in range(first, stop, writers):
                batch.save(
                    DeviceModel(
                        f"C{n:07d}",
                        product_type="meter",
                        mac="02:00:00:00:00:01",
                        maker_org_id="catmaker",
                        owner_org_id="catowner",
                        claim_status="CLAIMED",
                        wrapped_keys=b"x",
                        import_id="imp",
                        imported_at=now,
                        imported_by="u",
                        **DeviceModel.index_keys("catmaker", "catowner", "CLAIMED", "meter"),
                    )
                )

    threads = [threading.Thread(target=write, args=(start + k,)) for k in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _page_figures(reads: int = 20) -> dict:
    from chalicelib.permissions import Principal
    from chalicelib.services.devices.catalog import list_devices
    from tests.contract.test_device_catalog import count_dynamodb_calls

    operator = Principal(user_id="usr_bench", org_id="root", roles=frozenset({"OPERATOR"}))
    samples = []
    tracemalloc.start()
    for _ in range(reads):  # the same page each time, so that both catalog sizes are compared alike
        with count_dynamodb_calls() as calls:
            started = time.perf_counter()
            list_devices(operator, {"claim_status": "CLAIMED"}, view="owned", org_id="catowner", limit=50)
            samples.append(time.perf_counter() - started)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "p50_ms": round(statistics.median(samples) * 1000, 1),
        "dynamodb_calls": dict(calls),
        "peak_mib": round(peak / 2**20, 1),
    }


def catalog_pages(large: int = 100_000) -> dict:
    """GET /devices's service, a 50-device page of one owner's CLAIMED devices, at 100 and at `large` devices
    (DynamoDB Local): p50 of 20 reads and the DynamoDB calls of one."""
    from tests.helpers import make_org

    make_org("catmaker")
    make_org("catowner")
    _fill_devices(0, 100)
    small = _page_figures()
    started = time.perf_counter()
    _fill_devices(100, large)
    return {
        "at_100": small,
        f"at_{large}": _page_figures(),
        "fill_devices_per_s": round((large - 100) / (time.perf_counter() - started)),
    }


def invitation_expiry(count: int = 10_000) -> dict:
    """The hourly expiry job over `count` due invitations: timed, then again on as many under tracemalloc."""
    from chalicelib.models import InvitationModel
    from chalicelib.services.tenants.invitations import expire_invitations

    def due(prefix: str) -> None:
        past = datetime.now(timezone.utc) - timedelta(hours=1)
        with InvitationModel.batch_write() as batch:
            for n in range(count):
                batch.save(
                    InvitationModel(
                        f"{prefix}{n:06d}",
                        org_id="root",
                        state="SENT",
                        state_key="SENT#x",
                        email=f"i{n}@example.com",
                        created_by="usr_bench",
                        created_at=past,
                        expires_at=past,
                    )
                )

    due("inv_t")
    started = time.perf_counter()
    timed = expire_invitations()
    seconds = time.perf_counter() - started
    due("inv_m")
    tracemalloc.start()
    traced = expire_invitations()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert timed["expired"] == count and traced["expired"] == count, (timed, traced)
    return {
        "invitations": count,
        "seconds": round(seconds, 1),
        "per_s": round(count / seconds),
        "peak_mib": round(peak / 2**20, 1),
    }


def print_service(results: dict) -> None:
    """The service lines of the bench table."""
    cold = results["cold_import"]
    print(
        f"{'import app (median of 7 processes)':<44}{cold['import_app_s']:>9} s; its libraries eagerly "
        f"{cold['libraries_eagerly_s']} s; heavy loaded: {cold['heavy_loaded_by_import_app'] or 'none'}"
    )
    first = results["first_table_calls"]
    print(
        f"{'first call on 8 tables, fresh process':<44}{first['first_calls_s']:>9} s; the same calls again "
        f"{first['again_s']} s"
    )
    login = results["login"]
    print(f"{'login, production argon2id':<44}p50 {login['p50_ms']} ms, p95 {login['p95_ms']} ms")
    pages = results["catalog_pages"]
    for name, page in pages.items():
        if name.startswith("at_"):
            print(
                f"  {'GET /devices page of 50, ' + name[3:] + ' devices':<42}p50 {page['p50_ms']} ms, "
                f"calls {page['dynamodb_calls']}, peak {page['peak_mib']} MiB"
            )
    expiry = results["invitation_expiry"]
    print(
        f"{'expiry job, 10,000 due invitations':<44}{expiry['per_s']:>9,}/s, {expiry['seconds']} s, "
        f"peak {expiry['peak_mib']} MiB"
    )
