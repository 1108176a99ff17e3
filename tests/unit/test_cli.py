"""The operator CLI: its commands in-process on moto; its setup, errors, exit codes and progress bar."""

import csv
import io
import json
import os
import subprocess
import sys
import threading

import pytest

from chalicelib import __version__, cli, local
from chalicelib.cli_stage import SetupError, stage_environment
from chalicelib.security import verify_password
from chalicelib.services.tenants.users import find_user_by_email


def test_bootstrap_without_a_password_prints_a_temporary_one_that_must_be_changed(aws, capsys):
    assert cli.main(["bootstrap-operator", "--email", "Op@Example.com"]) == 0
    printed = capsys.readouterr().out
    temporary = printed.split("One-time password: ")[1].split()[0]
    user = find_user_by_email("op@example.com")
    assert user.roles == ["OPERATOR"] and user.must_change_password
    assert verify_password(user.password_hash, temporary)


def test_bootstrap_with_a_password_sets_it_without_a_change_required(aws, capsys):
    assert cli.main(["bootstrap-operator", "--email", "op@example.com", "--password", "Correct-Horse-9-Battery"]) == 0
    user = find_user_by_email("op@example.com")
    assert not user.must_change_password
    assert verify_password(user.password_hash, "Correct-Horse-9-Battery")
    assert "One-time password" not in capsys.readouterr().out


def test_bootstrap_refuses_a_weak_password_and_creates_nothing(aws, capsys):
    assert cli.main(["bootstrap-operator", "--email", "op@example.com", "--password", "weak"]) == cli.EXIT_REFUSED
    assert "password needs" in capsys.readouterr().err
    assert find_user_by_email("op@example.com") is None


def test_bootstrap_twice_leaves_the_first_account_alone(aws, capsys):
    cli.main(["bootstrap-operator", "--email", "op@example.com", "--password", "Correct-Horse-9-Battery"])
    assert cli.main(["bootstrap-operator", "--email", "op@example.com"]) == 0
    assert "exists already" in capsys.readouterr().out
    assert verify_password(find_user_by_email("op@example.com").password_hash, "Correct-Horse-9-Battery")


def test_sync_templates_loads_the_63_defaults(aws, capsys):
    from chalicelib.models import MailTemplateModel

    assert cli.main(["sync-templates"]) == 0
    assert "63 written" in capsys.readouterr().out
    assert MailTemplateModel.owner_index.count("system") == 63


def test_import_devices_reports_bad_rows_and_a_rerun_skips_what_was_imported(aws, tmp_path, capsys):
    from chalicelib.models import DeviceModel
    from tests.api.test_devices import HEADER, good_row
    from tests.helpers import make_org

    make_org("maker")
    source = tmp_path / "devices.csv"
    source.write_text(HEADER + "".join(good_row(n) for n in range(1200)) + good_row(1200).replace("AES128", "RSA"))
    report = tmp_path / "report.csv"
    assert cli.main(["import-devices", str(source), "--org", "maker", "--report", str(report)]) == 1
    out = capsys.readouterr()
    assert "Imported 1,200 devices; skipped 0 already in the catalog; rejected 1 rows" in out.out
    assert "1,201/1,201 rows" in out.err
    assert report.read_text().splitlines()[1:] == [
        '1202,SN-001200,rejected,"algorithm must be one of DES, AES128, AES192, AES256"'
    ]
    assert DeviceModel.get("SN-001199").maker_org_id == "maker"

    source.write_text(HEADER + "".join(good_row(n) for n in range(1198, 1203)))
    assert cli.main(["import-devices", str(source), "--org", "maker", "--report", str(report)]) == 0
    assert "Imported 3 devices; skipped 2 already in the catalog; rejected 0 rows" in capsys.readouterr().out
    assert [line.split(",")[:3] for line in report.read_text().splitlines()[1:]] == [
        ["2", "SN-001198", "skipped"],
        ["3", "SN-001199", "skipped"],
    ]


def test_import_devices_for_an_unknown_organization_stops_with_a_message(aws, tmp_path, capsys):
    source = tmp_path / "devices.csv"
    source.write_text("serial\n")
    assert cli.main(["import-devices", str(source), "--org", "nope"]) == cli.EXIT_REFUSED
    assert "organization" in capsys.readouterr().err.lower()


def run_alone(*args, home):
    """The CLI as a person runs it: its own process, nothing in the environment but PATH and KEYPORT_HOME."""
    env = {"PATH": os.environ["PATH"], "KEYPORT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", *args],
        cwd=local.PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_with_only_keyport_home_and_no_stack_ever_started_it_says_so_in_one_line(tmp_path):
    ran = run_alone("create-tables", home=tmp_path)
    assert (ran.returncode, ran.stdout) == (cli.EXIT_USAGE, "")
    assert ran.stderr == (
        f"error: no server secret at {tmp_path}/server-secret.hex: start the local stack once "
        "with `make run` (KEYPORT_HOME names its folder)\n"
    )


def test_a_stopped_stack_is_one_line_naming_make_run(tmp_path):
    local.ensure_server_secret(str(tmp_path))  # a stack ran here once and has stopped (it forgot its record)
    ran = run_alone("bootstrap-operator", "--email", "ops@example.com", home=tmp_path)
    assert ran.returncode == cli.EXIT_USAGE
    assert ran.stderr.count("\n") == 1 and "no local stack runs from" in ran.stderr and "make run" in ran.stderr


def test_a_stack_that_died_without_a_word_is_one_line_saying_dynamodb_local_does_not_answer(tmp_path):
    local.ensure_server_secret(str(tmp_path))
    gone = f"http://127.0.0.1:{local.free_port()}"  # nobody listens there
    local.record_stack(str(tmp_path), gone, 8731)
    ran = run_alone("create-tables", home=tmp_path)
    assert ran.returncode == cli.EXIT_USAGE
    assert ran.stderr.startswith(f"error: DynamoDB Local does not answer at {gone}: is the local stack running")
    assert ran.stderr.count("\n") == 1


def test_on_the_local_stack_the_cli_takes_the_secret_and_the_endpoint_make_run_left_under_keyport_home(tmp_path):
    secret = local.ensure_server_secret(str(tmp_path))
    local.record_stack(str(tmp_path), "http://127.0.0.1:45678", 8731)
    added = stage_environment({"KEYPORT_HOME": str(tmp_path), "AWS_PROFILE": "someone"})
    assert added["KEYPORT_SERVER_SECRET"] == secret
    assert added["KEYPORT_DYNAMODB_ENDPOINT"] == "http://127.0.0.1:45678"
    assert (added["KEYPORT_STAGE"], added["KEYPORT_HOME"]) == ("local", str(tmp_path))
    assert (added["AWS_ACCESS_KEY_ID"], added["AWS_SECRET_ACCESS_KEY"]) == ("local", "local")  # never a profile's


def test_the_stack_record_is_written_whole_read_back_and_forgotten_when_the_stack_stops(tmp_path):
    path = local.record_stack(str(tmp_path), "http://127.0.0.1:45678", 8731)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert local.read_stack(str(tmp_path))["dynamodb_endpoint"] == "http://127.0.0.1:45678"
    local.forget_stack(str(tmp_path))
    assert local.read_stack(str(tmp_path)) is None
    (tmp_path / local.STACK_FILE).write_text("{half")
    assert local.read_stack(str(tmp_path)) is None


def test_a_mangled_server_secret_is_refused_rather_than_used(tmp_path):
    (tmp_path / local.SERVER_SECRET_FILE).write_text("not hex at all")
    with pytest.raises(SetupError, match="not 64 hex digits"):
        stage_environment({"KEYPORT_HOME": str(tmp_path)})


@pytest.mark.parametrize("missing", ["KEYPORT_KMS_KEY_ARN", "KEYPORT_SERVER_SECRET_ARN"])
def test_a_deployed_stage_without_its_arns_is_refused_and_never_falls_back_to_the_local_key_file(
    aws, monkeypatch, capsys, missing
):
    from chalicelib.models import OrganizationModel

    monkeypatch.setenv("KEYPORT_STAGE", "prod")
    for name in ("KEYPORT_KMS_KEY_ARN", "KEYPORT_SERVER_SECRET_ARN"):
        monkeypatch.setenv(name, f"arn:aws:kms:eu-central-1:123456789012:key/{name}")
    monkeypatch.delenv(missing)
    OrganizationModel.delete_table()
    assert cli.main(["create-tables"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"error: stage prod needs {missing} (stack Output ") and err.count("\n") == 1
    assert not OrganizationModel.exists()  # refused before touching anything


def test_the_version_is_the_packages(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"keyport {__version__}\n"


def test_a_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["import-devices", "devices.csv"])
    assert done.value.code == cli.EXIT_USAGE and "--org" in capsys.readouterr().err


def test_a_missing_device_file_is_one_line_and_exit_2(aws, tmp_path, capsys):
    assert cli.main(["import-devices", str(tmp_path / "nope.csv"), "--org", "maker"]) == cli.EXIT_USAGE
    assert capsys.readouterr().err == f"error: cannot read {tmp_path}/nope.csv: No such file or directory\n"


def test_a_device_file_that_is_not_utf8_is_one_line_and_exit_2(aws, tmp_path, capsys):
    from tests.api.test_devices import HEADER, good_row
    from tests.helpers import make_org

    make_org("maker")
    source = tmp_path / "devices.csv"
    source.write_bytes((HEADER + good_row(1)).encode("utf-16"))
    report = tmp_path / "devices.csv.report.csv"
    assert cli.main(["import-devices", str(source), "--org", "maker"]) == cli.EXIT_USAGE
    assert capsys.readouterr().err == (
        f"error: {source} is not UTF-8 text (line 1 cannot be read); save it as UTF-8 CSV\n"
    )
    assert not report.exists()  # stopped before the import began


@pytest.mark.parametrize("text,reason", [('{"items": [', "Expecting value"), ("[]", 'it must be {"items": [...]}')])
def test_a_json_device_file_that_is_not_one_is_one_line_and_exit_2(aws, tmp_path, capsys, text, reason):
    from tests.helpers import make_org

    make_org("maker")
    source = tmp_path / "devices.json"
    source.write_text(text)
    assert cli.main(["import-devices", str(source), "--org", "maker"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"error: {source} is not a device file: ") and reason in err and err.count("\n") == 1


def test_a_report_that_cannot_be_written_is_one_line_and_exit_2(aws, tmp_path, capsys):
    from tests.api.test_devices import HEADER, good_row
    from tests.helpers import make_org

    make_org("maker")
    source = tmp_path / "devices.csv"
    source.write_text(HEADER + good_row(1))
    report = tmp_path / "no-such-folder" / "report.csv"
    assert cli.main(["import-devices", str(source), "--org", "maker", "--report", str(report)]) == cli.EXIT_USAGE
    assert capsys.readouterr().err == f"error: cannot write the report {report}: permission denied or no such folder\n"


def test_a_json_import_counts_its_items_on_the_bar(aws, tmp_path, capsys):
    from tests.helpers import make_org

    make_org("maker")
    keys = [{"name": "app", "algorithm": "AES128", "hex": "00112233445566778899aabbccddeeff"}]
    items = [
        {
            "serial": f"J-{n}",
            "product_type": "meter",
            "mac": f"00:1a:2b:3c:4d:{n:02x}",
            "claim_code": f"CLAIMCODE{n:02d}",
            "keys": keys,
        }
        for n in range(3)
    ]
    source = tmp_path / "devices.json"
    source.write_text(json.dumps({"items": items}))  # one line of text, three devices
    assert cli.main(["import-devices", str(source), "--org", "maker"]) == cli.EXIT_DONE
    out = capsys.readouterr()
    assert "Imported 3 devices" in out.out and "3/3 rows" in out.err


def test_an_unexpected_error_is_one_line_with_a_hint_and_debug_shows_its_traceback(aws, monkeypatch, capsys):
    from chalicelib.services.mail_templates import templates

    def broken():
        raise RuntimeError("the disk is on fire\nsecond line")

    monkeypatch.setattr(templates, "sync_default_templates", broken)
    assert cli.main(["sync-templates"]) == cli.EXIT_UNEXPECTED
    assert capsys.readouterr().err == (
        "error: unexpected RuntimeError: the disk is on fire (rerun with --debug for the traceback)\n"
    )
    assert cli.main(["--debug", "sync-templates"]) == cli.EXIT_UNEXPECTED
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "RuntimeError: the disk is on fire" in err


def test_an_aws_refusal_deep_inside_pynamodb_is_one_line(aws, capsys):
    from chalicelib.models import MailTemplateModel

    MailTemplateModel.delete_table()
    assert cli.main(["sync-templates"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: AWS refused the call: ResourceNotFoundException: ") and err.count("\n") == 1
    assert err.endswith("; run `create-tables` first\n")


class FakeClock:
    """Time that passes only when the test says so."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_the_progress_bar_redraws_at_least_every_second_however_rows_arrive():
    clock, out = FakeClock(), io.StringIO()
    bar = cli.ProgressBar(10_000, out, clock=clock)
    draws = []
    for row in range(1, 401):  # 400 rows, 10 ms apart: 4 seconds of a fast file
        clock.now += 0.01
        before = bar.draws
        bar.advance(row)
        if bar.draws > before:
            draws.append(clock.now)
    gaps = [later - earlier for earlier, later in zip(draws, draws[1:])]
    assert len(draws) >= 4 and all(0.5 <= gap <= 1.0 for gap in gaps), draws  # at most 2 a second, never silent


class StopAfter:
    """A threading.Event stand-in whose wait lets `waits` intervals pass (on the fake clock), then says stop."""

    def __init__(self, waits, clock):
        self.waits, self.clock = waits, clock

    def wait(self, seconds):
        self.clock.now += seconds
        self.waits -= 1
        return self.waits < 0


def test_the_progress_bar_moves_while_a_slow_chunk_is_stored_and_no_row_arrives():
    clock, out = FakeClock(), io.StringIO()
    bar = cli.ProgressBar(5_000, out, clock=clock)
    bar.advance(1_000)
    bar.keep_drawing(StopAfter(6, clock))  # 3 seconds without any progress
    lines = out.getvalue().split("\r")[1:]
    assert len(lines) == 7 and len(set(lines)) == 7  # redrawn every half second, and visibly different each time
    assert lines[-1].startswith("[######........................] 1,000/5,000 rows") and " 0:03 " in lines[-1]


def test_the_import_draws_its_bar_from_a_thread_while_a_chunk_is_being_stored(aws, tmp_path, monkeypatch):
    from chalicelib.services.devices import importing as device_import
    from tests.api.test_devices import HEADER, good_row
    from tests.helpers import make_org

    make_org("maker")
    source = tmp_path / "devices.csv"
    source.write_text(HEADER + "".join(good_row(n) for n in range(5)))
    storing, drawn, seen = threading.Event(), threading.Event(), []
    store, draw = device_import.store_devices, cli.ProgressBar.draw

    def slow_store(*args):
        storing.set()
        seen.append(drawn.wait(10))  # a redraw must come while the import is stuck here, from elsewhere
        return store(*args)

    def watched_draw(bar):
        draw(bar)
        if storing.is_set():
            drawn.set()

    monkeypatch.setattr(device_import, "store_devices", slow_store)
    monkeypatch.setattr(cli.ProgressBar, "draw", watched_draw)
    assert cli.main(["import-devices", str(source), "--org", "maker"]) == cli.EXIT_DONE
    assert seen == [True]


@pytest.fixture
def key_world(make_key_world):
    """customer owns K-1 and K-2 (claimed) and K-3 (pending); rival owns R-1; a key manager and a viewer."""
    make_key_world("K")


def audit_actions(org_id):
    from chalicelib.models import AuditEventModel

    return [
        (event.action, event.detail.get("count"))
        for event in AuditEventModel.query(org_id)
        if event.action.startswith("keys_download")
    ]


def test_export_keys_writes_the_accounts_claimed_devices_to_a_file_only_its_owner_reads_and_audits_it(
    key_world, tmp_path, capsys
):
    out = tmp_path / "keys.csv"
    assert cli.main(["export-keys", "--as", "K@customer.example", "--out", str(out)]) == cli.EXIT_DONE
    assert os.stat(out).st_mode & 0o777 == 0o600
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert [row[0] for row in rows] == ["serial", "K-1", "K-2"]  # never the pending K-3 nor the rival's R-1
    assert capsys.readouterr().out.startswith(f"Wrote {out} (")
    assert audit_actions("customer") == [("keys_downloaded", 2)]
    assert [path.name for path in tmp_path.iterdir()] == ["keys.csv"]  # no part file left


def test_export_keys_takes_the_catalog_filters_and_the_json_format(key_world, tmp_path):
    out = tmp_path / "roof.json"
    assert (
        cli.main(
            ["export-keys", "--as", "k@customer.example", "--format", "json", "--label", "roof", "--out", str(out)]
        )
        == cli.EXIT_DONE
    )
    assert [device["serial"] for device in json.loads(out.read_text())["devices"]] == ["K-2"]


@pytest.mark.parametrize(
    "who,org,message",
    [
        ("v@customer.example", None, "error: Your roles do not allow key downloads.\n"),
        ("k@customer.example", "rival", None),
        ("nobody@customer.example", None, "error: No active account has the e-mail nobody@customer.example.\n"),
    ],
)
def test_export_keys_is_refused_as_the_service_refuses_the_account_and_writes_nothing(
    key_world, tmp_path, capsys, who, org, message
):
    out = tmp_path / "keys.csv"
    argv = ["export-keys", "--as", who, "--out", str(out)] + (["--org", org] if org else [])
    assert cli.main(argv) == cli.EXIT_REFUSED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and (message is None or err == message)
    assert list(tmp_path.iterdir()) == []
    if who != "nobody@customer.example":  # refused by the service, which audits it under the org asked for
        assert audit_actions(org or "customer") == [("keys_download_refused", 0)]


def test_export_keys_never_overwrites_a_file(key_world, tmp_path, capsys):
    out = tmp_path / "keys.csv"
    out.write_text("precious")
    assert cli.main(["export-keys", "--as", "k@customer.example", "--out", str(out)]) == cli.EXIT_USAGE
    assert capsys.readouterr().err == (
        f"error: {out} exists already; name another file (key files are never overwritten)\n"
    )
    assert out.read_text() == "precious"


def test_the_import_counts_rows_on_the_bar_a_few_hundred_at_a_time_not_per_thousand(aws, tmp_path, monkeypatch):
    from tests.api.test_devices import HEADER, good_row
    from tests.helpers import make_org

    make_org("maker")
    source = tmp_path / "devices.csv"
    source.write_text(HEADER + "".join(good_row(n) for n in range(600)))
    counted, advance = [], cli.ProgressBar.advance

    def counting(bar, done):
        counted.append(done)
        advance(bar, done)

    monkeypatch.setattr(cli.ProgressBar, "advance", counting)
    assert cli.main(["import-devices", str(source), "--org", "maker"]) == cli.EXIT_DONE
    assert counted == [250, 500, 600]  # after each stored chunk


def test_an_import_that_fails_midway_ends_the_bar_line_before_its_one_line_error(aws, tmp_path, monkeypatch, capsys):
    from chalicelib.services.devices import importing as device_import
    from tests.api.test_devices import HEADER, good_row
    from tests.helpers import make_org

    make_org("maker")
    source = tmp_path / "devices.csv"
    source.write_text(HEADER + "".join(good_row(n) for n in range(300)))
    store = device_import.store_devices
    calls = []

    def store_then_fail(*args):
        calls.append(1)
        if len(calls) > 1:
            raise OSError("the disk is full")
        return store(*args)

    monkeypatch.setattr(device_import, "store_devices", store_then_fail)
    assert cli.main(["import-devices", str(source), "--org", "maker"]) == cli.EXIT_UNEXPECTED
    err = capsys.readouterr().err
    bar, error = err.rstrip("\n").rsplit("\n", 1)
    assert "250/300 rows" in bar.split("\r")[-1]  # left where it stopped, not drawn full
    assert error == "error: unexpected OSError: the disk is full (rerun with --debug for the traceback)"


def test_export_keys_takes_a_serial_prefix_as_the_catalog_does(key_world, tmp_path):
    out = tmp_path / "k.json"
    assert (
        cli.main(["export-keys", "--as", "k@customer.example", "--format", "json", "--serial", "K-", "--out", str(out)])
        == cli.EXIT_DONE
    )
    assert [device["serial"] for device in json.loads(out.read_text())["devices"]] == ["K-1", "K-2"]


def test_export_keys_seals_a_jwe_file_for_the_recipient_key_given_as_a_file(key_world, tmp_path):
    from jwcrypto.jwe import JWE

    from tests.jose_keys import private_and_public

    private, public = private_and_public("EC", "P-256")
    (tmp_path / "recipient.json").write_text(json.dumps(public))
    out = tmp_path / "keys.jwe"
    assert (
        cli.main(
            [
                "export-keys",
                "--as",
                "k@customer.example",
                "--format",
                "jwe",
                "--recipient-jwk",
                str(tmp_path / "recipient.json"),
                "--out",
                str(out),
            ]
        )
        == cli.EXIT_DONE
    )
    token = JWE()
    token.deserialize(out.read_text(), key=private)
    assert [device["serial"] for device in json.loads(token.payload)["devices"]] == ["K-1", "K-2"]


def test_export_keys_with_an_unreadable_recipient_key_file_is_one_line_and_exit_2(key_world, tmp_path, capsys):
    (tmp_path / "recipient.json").write_text("{not json")
    assert (
        cli.main(
            [
                "export-keys",
                "--as",
                "k@customer.example",
                "--format",
                "jwe",
                "--recipient-jwk",
                str(tmp_path / "recipient.json"),
            ]
        )
        == cli.EXIT_USAGE
    )
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot read the recipient key {tmp_path}/recipient.json: ") and err.count("\n") == 1
