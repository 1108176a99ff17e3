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
