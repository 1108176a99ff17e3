"""`make bench`: throughput figures of keyport on this machine (a script, not a test: it asserts nothing).

Prints a table and writes bench/results.json. DynamoDB is a real DynamoDB Local; KMS is moto's, in-process.
"""

import json
import os
import platform
import secrets
import sys
import tempfile
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
_home = tempfile.mkdtemp(prefix="keyport-bench-")
with open(os.path.join(_home, "wrapping-key.bin"), "wb") as _handle:
    _handle.write(os.urandom(32))
os.environ.update(
    {
        "KEYPORT_STAGE": "bench",
        "KEYPORT_HOME": _home,
        "KEYPORT_SERVER_SECRET": secrets.token_hex(32),
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }
)
os.environ.pop("KEYPORT_KMS_KEY_ARN", None)

DEVICES = 10_000

import bench_console  # noqa: E402  (after the environment above)
import bench_service  # noqa: E402
import bench_totals  # noqa: E402


def csv_file(count: int, prefix: str) -> str:
    """`count` devices, one AES-128 key row each (the columns of POST /devices/import)."""
    lines = ["serial;product_type;mac;id_code;claim_code;labels;key_name;algorithm;key_hex"]
    for n in range(count):
        mac = f"02:00:00:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}"
        lines.append(
            f"{prefix}{n:07d};heat-meter;{mac};ID{n:07d};CLAIM{n:09d};lot-{n % 7};app;AES128;{secrets.token_hex(16)}"
        )
    return "\n".join(lines) + "\n"


def timed_import(text: str) -> dict:
    """Import one file end to end through the service, as an operator, into DynamoDB Local."""
    from chalicelib.permissions import Principal
    from chalicelib.services.devices.importing import import_devices

    operator = Principal(user_id="usr_bench", org_id="root", roles=frozenset({"OPERATOR"}))
    started = time.perf_counter()
    result = import_devices(operator, csv_text=text, org_id="maker")
    seconds = time.perf_counter() - started
    assert result["imported"] == DEVICES and not result["rejected"], result["rejected"][:3]
    return {"rows": DEVICES, "seconds": round(seconds, 2), "rows_per_s": round(DEVICES / seconds)}


def timed_pipeline(text: str, calls: dict, provider=None) -> dict:
    """What the import does besides storing: parse, validate, hash the codes, wrap every device's keys.
    Timed without tracemalloc (it slows Python ~2x), then run again under it for the peak."""
    import tracemalloc

    from chalicelib.crypto import KeyWrapper
    from chalicelib.services.devices.import_rows import csv_rows, group_rows
    from chalicelib.services.devices.importing import _device, split_results

    def run() -> int:
        drafts, rejected = split_results(group_rows(csv_rows(text)))
        wrapper, now = KeyWrapper(f"imp_{secrets.token_hex(4)}", provider=provider), datetime.now(timezone.utc)
        devices = [_device(draft, "maker", "usr_bench", wrapper, now) for draft in drafts]
        assert len(devices) == DEVICES and not rejected
        return len(devices)

    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    counted = {name: count for name, count in calls.items() if count}  # of the timed run only
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "rows": DEVICES,
        "seconds": round(seconds, 2),
        "rows_per_s": round(DEVICES / seconds),
        "peak_mib": round(peak / 2**20, 1),
        "key_calls": counted,
    }


def dynamodb_local_ceiling(count: int) -> dict:
    """DynamoDB Local alone: batch writes of device-shaped items (same indexes), no keyport work around them."""
    from chalicelib.models import DeviceModel

    now = datetime.now(timezone.utc)
    items = [
        DeviceModel(
            f"C{n:07d}",
            product_type="heat-meter",
            mac="02:00:00:00:00:01",
            maker_org_id="maker",
            id_proof=f"proof{n}",
            labels=["lot"],
            wrapped_keys=os.urandom(380),
            import_id="imp",
            imported_at=now,
            imported_by="u",
            **DeviceModel.index_keys("maker", None, "UNCLAIMED", "heat-meter"),
        )
        for n in range(count)
    ]
    started = time.perf_counter()
    with DeviceModel.batch_write() as batch:
        for item in items:
            batch.save(item)
    return {"items": count, "items_per_s": round(count / (time.perf_counter() - started))}


def batch_confirm(serials: list) -> dict:
    """A batch of 10,000 imported serials: creation (devices PENDING) and the target's confirmation, timed."""
    from chalicelib.permissions import Principal
    from chalicelib.services.devices.batches import confirm_batch, create_batch
    from tests.contract.test_device_catalog import count_dynamodb_calls
    from tests.helpers import make_org

    make_org("target")
    operator = Principal(user_id="usr_bench", org_id="root", roles=frozenset({"OPERATOR"}))
    started = time.perf_counter()
    batch = create_batch(
        operator,
        {
            "reference": "BENCH",
            "org_id": "target",
            "serials": serials,
            "maker_org_id": "maker",
            "requires_confirmation": True,
        },
    )
    created = time.perf_counter() - started
    with count_dynamodb_calls() as calls:
        started = time.perf_counter()
        confirmed = confirm_batch(operator, batch["id"])
        seconds = time.perf_counter() - started
    assert confirmed["count"] == len(serials) and confirmed["state"] == "CONFIRMED"
    # Not repeatable (the serials are taken now), so no second run under tracemalloc: the process's peak instead.
    return {
        "serials": len(serials),
        "create_seconds": round(created, 2),
        "confirm_seconds": round(seconds, 2),
        "transactions": calls["TransactWriteItems"],
        "process_max_rss_mib": _max_rss_mib(),
    }


def _max_rss_mib() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def key_download() -> dict:
    """GET /devices/keys's service for the 10,000 devices the batch gave the target (limit lifted for the bench):
    DynamoDB reads, unwrapping with the per-process decrypt cache, the CSV."""
    from chalicelib.permissions import Principal
    from chalicelib.services.keys import downloads as keys

    unwraps, original = count_raw_key_calls("decrypt_data_key", "data keys decrypted")
    keys.MAX_DOWNLOAD_DEVICES = DEVICES
    operator = Principal(user_id="usr_bench", org_id="root", roles=frozenset({"OPERATOR"}))
    started = time.perf_counter()
    file = keys.download_keys(operator, "csv", {}, org_id="target")
    seconds = time.perf_counter() - started
    restore_raw_key_call("decrypt_data_key", original)
    assert file["body"].count("\n") == DEVICES + 1
    import tracemalloc

    tracemalloc.start()
    keys.download_keys(operator, "csv", {}, org_id="target")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "keys": DEVICES,
        "seconds": round(seconds, 2),
        "keys_per_s": round(DEVICES / seconds),
        "peak_mib": round(peak / 2**20, 1),
        **unwraps,
    }


def export_end_to_end() -> dict:
    """POST /exports's job for the target's 10,000 claimed devices, the local stack's way (DynamoDB Local, the
    file sealed under KEYPORT_HOME); timed, then run again under tracemalloc for the peak."""
    import tracemalloc

    from chalicelib.models import ExportModel
    from chalicelib.services.accounts.sessions import principal_of
    from chalicelib.services.keys import export_storage
    from chalicelib.services.keys.exports import request_export, run_export
    from tests.helpers import make_user

    principal = principal_of(make_user(email="bench@target.example", org_id="target", roles=("KEY_MANAGER",)))

    def run() -> tuple:
        export_id = request_export(principal, "csv", {})["id"]
        export_storage.take_local_jobs()
        started = time.perf_counter()
        assert run_export(export_id) == "READY"
        return export_id, time.perf_counter() - started

    unwraps, original = count_raw_key_calls("decrypt_data_key", "data keys decrypted")
    export_id, seconds = run()
    restore_raw_key_call("decrypt_data_key", original)
    job = ExportModel.get(export_id)
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "keys": int(job.count),
        "seconds": round(seconds, 2),
        "keys_per_s": round(job.count / seconds),
        "file_bytes": int(job.size_bytes),
        "peak_mib": round(peak / 2**20, 1),
        **unwraps,
    }


def unwrap_only(count: int, provider, calls: dict) -> dict:
    """What an export does per device besides reading it: unwrap through the per-process decrypt cache (here over
    KMS), next to plain AES-GCM decrypting the same payloads."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from chalicelib import crypto

    keys = [[{"name": "app", "algorithm": "AES128", "hex": secrets.token_hex(16)}] for _ in range(count)]
    wrapper = crypto.KeyWrapper("imp_unwrap", provider=provider)
    blobs = [wrapper.wrap(f"U{n}", device_keys) for n, device_keys in enumerate(keys)]
    manager = crypto.caching_manager(provider)
    original, crypto._decrypt_manager = crypto._decrypt_manager, lambda: manager
    before = dict(calls)
    started = time.perf_counter()
    for n, blob in enumerate(blobs):
        crypto.unwrap(f"U{n}", "imp_unwrap", blob)
    sdk = count / (time.perf_counter() - started)
    crypto._decrypt_manager = original
    aead = AESGCM(AESGCM.generate_key(256))
    sealed = [
        (nonce, aead.encrypt(nonce, json.dumps({"serial": f"U{n}", "keys": k}).encode(), b"device-keys"))
        for n, k in enumerate(keys)
        for nonce in [os.urandom(12)]
    ]
    started = time.perf_counter()
    for nonce, payload in sealed:
        json.loads(aead.decrypt(nonce, payload, b"device-keys"))
    plain = count / (time.perf_counter() - started)
    return {
        "keys": count,
        "esdk_keys_per_s": round(sdk),
        "aes_gcm_keys_per_s": round(plain),
        "ratio": round(plain / sdk, 1),
        "kms_calls": {name: calls[name] - before.get(name, 0) for name in calls},
    }


def count_raw_key_calls(method: str, label: str) -> tuple:
    """Count calls of one RawMasterKey method (the local provider's data-key work): ({label: n}, original)."""
    from aws_encryption_sdk.key_providers.raw import RawMasterKey

    counter, original = {label: 0}, getattr(RawMasterKey, method)

    def counting(self, *args, **kwargs):
        counter[label] += 1
        return original(self, *args, **kwargs)

    setattr(RawMasterKey, method, counting)
    return counter, original


def restore_raw_key_call(method: str, original) -> None:
    """Undo count_raw_key_calls."""
    from aws_encryption_sdk.key_providers.raw import RawMasterKey

    setattr(RawMasterKey, method, original)


def wrap_only(count: int) -> dict:
    """The encryption SDK alone (one message per device, the import's cache) next to plain AES-GCM."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from chalicelib.crypto import KeyWrapper

    keys = [[{"name": "app", "algorithm": "AES128", "hex": secrets.token_hex(16)}] for _ in range(count)]
    wrapper = KeyWrapper("imp_bench")
    started = time.perf_counter()
    for n, device_keys in enumerate(keys):
        wrapper.wrap(f"W{n}", device_keys)
    sdk = count / (time.perf_counter() - started)
    aead, payloads = (
        AESGCM(AESGCM.generate_key(256)),
        [json.dumps({"serial": f"W{n}", "keys": k}).encode() for n, k in enumerate(keys)],
    )
    started = time.perf_counter()
    for payload in payloads:
        aead.encrypt(os.urandom(12), payload, b"device-keys")
    plain = count / (time.perf_counter() - started)
    return {"esdk_messages_per_s": round(sdk), "aes_gcm_messages_per_s": round(plain), "ratio": round(plain / sdk, 1)}


def main() -> int:
    from moto import mock_aws

    from chalicelib import models
    from chalicelib.local import DynamoDBLocal
    from tests.helpers import make_org
    from tests.kms_calls import count_kms_calls

    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()}}
    results["cold_import"] = bench_service.cold_import()
    counter, _original = count_raw_key_calls("generate_data_key", "raw key GenerateDataKey")
    local = timed_pipeline(csv_file(DEVICES, "P"), counter)
    local["provider"] = "local wrapping key"
    with mock_aws():
        import boto3

        from chalicelib import crypto

        arn = boto3.client("kms", region_name="eu-central-1").create_key()["KeyMetadata"]["Arn"]
        with count_kms_calls() as calls:
            kms = timed_pipeline(csv_file(DEVICES, "Q"), calls, provider=crypto.kms_provider(arn))
        kms["provider"] = "KMS (moto)"
        with count_kms_calls() as calls:
            results["unwrap"] = unwrap_only(DEVICES, crypto.kms_provider(arn), calls)
    results["import_pipeline"] = [local, kms]
    with DynamoDBLocal() as database:
        models.bind(host=database.endpoint, prefix="bench-")
        models.create_tables()
        make_org("maker")
        results["import_end_to_end"] = timed_import(csv_file(DEVICES, "L"))
        results["dynamodb_local_ceiling"] = dynamodb_local_ceiling(DEVICES)
        results["batch_confirm"] = batch_confirm([f"L{n:07d}" for n in range(DEVICES)])
        results["key_download"] = key_download()
        results["export"] = export_end_to_end()
        results["first_table_calls"] = bench_service.first_table_calls(database.endpoint, "bench-")
        results["login"] = bench_service.login_latency()
        results["invitation_expiry"] = bench_service.invitation_expiry()
        results["catalog_pages"] = bench_service.catalog_pages(int(os.environ.get("KEYPORT_BENCH_CATALOG", "100000")))
        results["console"] = bench_console.console_pages()
        results["list_totals"] = bench_totals.list_totals()
    results["wrap"] = wrap_only(DEVICES)
    _print(results)
    os.makedirs(os.path.join(ROOT, "bench"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results.json"), "w") as handle:
        json.dump(results, handle, indent=2)
    return 0


def _print(results: dict) -> None:
    print(f"keyport bench on {results['machine']['cpus']} CPUs, Python {results['machine']['python']}")
    print(f"{'import of 10,000 devices':<44}{'rows/s':>9}{'seconds':>9}{'peak MiB':>10}  key calls")
    for row in results["import_pipeline"]:
        calls = row["key_calls"]
        print(
            f"  {'parse+check+wrap, ' + row['provider']:<42}{row['rows_per_s']:>9,}{row['seconds']:>9}"
            f"{row['peak_mib']:>10}  {calls}"
        )
    end = results["import_end_to_end"]
    print(f"  {'end to end into DynamoDB Local':<42}{end['rows_per_s']:>9,}{end['seconds']:>9}")
    ceiling = results["dynamodb_local_ceiling"]
    print(f"  {'DynamoDB Local alone (batch writes)':<42}{ceiling['items_per_s']:>9,}  items/s: the ceiling here")
    batch = results["batch_confirm"]
    print(
        f"{'batch of 10,000 serials (DynamoDB Local)':<44}create {batch['create_seconds']} s, confirm "
        f"{batch['confirm_seconds']} s in {batch['transactions']} transactions (process max RSS "
        f"{batch['process_max_rss_mib']} MiB)"
    )
    download = results["key_download"]
    print(
        f"{'key download, 10,000 keys (DynamoDB Local)':<44}{download['keys_per_s']:>9,} keys/s, "
        f"{download['seconds']} s, peak {download['peak_mib']} MiB, {download['data keys decrypted']} data keys "
        "decrypted"
    )
    export = results["export"]
    print(
        f"{'export job, 10,000 keys (DynamoDB Local)':<44}{export['keys_per_s']:>9,} keys/s, "
        f"{export['seconds']} s, peak {export['peak_mib']} MiB, {export['data keys decrypted']} data keys decrypted"
    )
    unwrap = results["unwrap"]
    print(
        f"{'unwrapping alone (KMS via moto)':<44}{unwrap['esdk_keys_per_s']:>9,} keys/s, KMS calls "
        f"{unwrap['kms_calls']}; plain AES-GCM {unwrap['aes_gcm_keys_per_s']:,}/s ({unwrap['ratio']}x)"
    )
    bench_service.print_service(results)
    bench_console.print_console(results)
    bench_totals.print_totals(results)
    wrap = results["wrap"]
    print(
        f"{'wrapping alone':<44}{wrap['esdk_messages_per_s']:>9,} ESDK messages/s; plain AES-GCM "
        f"{wrap['aes_gcm_messages_per_s']:,}/s ({wrap['ratio']}x)"
    )


if __name__ == "__main__":
    sys.exit(main())
