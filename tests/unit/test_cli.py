"""The operator CLI."""
from chalicelib import cli
from chalicelib.services.users import find_user_by_email
from chalicelib.security import verify_password


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
    assert cli.main(["bootstrap-operator", "--email", "op@example.com", "--password", "weak"]) == 2
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
        "1202,SN-001200,rejected,\"algorithm must be one of DES, AES128, AES192, AES256\""]
    assert DeviceModel.get("SN-001199").maker_org_id == "maker"

    source.write_text(HEADER + "".join(good_row(n) for n in range(1198, 1203)))
    assert cli.main(["import-devices", str(source), "--org", "maker", "--report", str(report)]) == 0
    assert "Imported 3 devices; skipped 2 already in the catalog; rejected 0 rows" in capsys.readouterr().out
    assert [line.split(",")[:3] for line in report.read_text().splitlines()[1:]] == [
        ["2", "SN-001198", "skipped"], ["3", "SN-001199", "skipped"]]


def test_import_devices_for_an_unknown_organization_stops_with_a_message(aws, tmp_path, capsys):
    source = tmp_path / "devices.csv"
    source.write_text("serial\n")
    assert cli.main(["import-devices", str(source), "--org", "nope"]) == 2
    assert "organization" in capsys.readouterr().err.lower()
