"""Passwords, the password policy, tokens and their hashes."""

import re
import string

import pytest

from chalicelib import security
from chalicelib.config import read_settings
from chalicelib.errors import WeakPassword


def test_production_settings_hash_with_argon2id_at_64_mib_three_passes_four_lanes():
    settings = read_settings({})
    assert (settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism) == (65536, 3, 4)


def test_password_hashes_are_argon2id_and_salted():
    first, second = security.hash_password("Correct-Horse-9-Battery"), security.hash_password("Correct-Horse-9-Battery")
    assert first.startswith("$argon2id$") and first != second
    assert security.verify_password(first, "Correct-Horse-9-Battery")
    assert not security.verify_password(first, "Correct-Horse-9-Batterz")


def test_verify_password_answers_false_for_a_broken_hash():
    assert security.verify_password("not-a-hash", "whatever") is False


@pytest.mark.parametrize("password", ["Correct-Horse-9-Battery", "Zähler#Wasser2026", "x" * 10 + "A1!"])
def test_strong_passwords_pass_the_policy(password):
    assert security.password_problems(password) == []


@pytest.mark.parametrize(
    "password, rule",
    [
        ("Sh0rt!", "at least 12 characters"),
        ("A1!" + "a" * 126, "at most 128 characters"),
        ("Monkey12345!", "not a common password"),
        ("Summer2024!!", "not a common password"),
        ("Iloveyou123$", "not a common password"),
    ],
)
def test_weak_passwords_name_the_broken_rule(password, rule):
    assert rule in security.password_problems(password)


def test_a_long_password_is_not_truncated():
    base = "Correct-Horse-9-Battery" * 5  # 115 characters, more than bcrypt's 72 bytes
    hashed = security.hash_password(base + "A")
    assert not security.verify_password(hashed, base + "B")


def test_temporary_passwords_pass_the_policy_and_differ():
    passwords = {security.new_temporary_password() for _ in range(20)}
    assert len(passwords) == 20
    assert all(security.password_problems(password) == [] for password in passwords)


def test_tokens_carry_256_random_bits_and_are_stored_as_sha256():
    token = security.new_token()
    assert len(token) >= 43 and token != security.new_token()
    # FIPS 180-2 test vector for SHA-256("abc"): a known answer, not a re-implementation.
    assert security.token_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert security.token_hash(token) != security.token_hash(security.new_token())


def test_same_secret_compares_in_constant_time_and_correctly(monkeypatch):
    import hmac

    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert security.same_secret("abc", "abc")
    assert not security.same_secret("abc", "abd")
    # The answer must come from the constant-time primitive, not from ==.
    assert len(calls) == 2


@pytest.mark.parametrize(
    "address, valid",
    [
        ("ada@example.com", True),
        ("ada.lovelace+keys@mail.stadtwerke-kiel.de", True),
        ("a@b.co", True),
        ("ada@example", False),
        ("ada@example.com*", False),
        ("ada@exa mple.com", False),
        ("@example.com", False),
        ("ada@@example.com", False),
        ("ada@-example.com", False),
        ("ada@example.c", False),
        ("\u00de\U0001f3fb@zI.pv.GrWN", False),
        (".ada@example.com", False),
        ("a..da@example.com", False),
        ("o'brien@example.ie", True),
        ("x" * 65 + "@example.com", False),
    ],
)
def test_email_addresses_are_checked_for_a_plausible_host(address, valid):
    from chalicelib.fields import is_email

    assert is_email(address) is valid


def test_a_password_of_exactly_the_minimum_length_passes_and_one_shorter_does_not():
    exact = "Kx7!mQ2#vR9p"
    assert len(exact) == security.PASSWORD_MIN_LENGTH
    assert security.password_problems(exact) == []
    assert "at least 12 characters" in security.password_problems(exact[:-1])


def test_a_keyed_digest_depends_on_the_server_secret(monkeypatch):
    import dataclasses

    settings = security.get_settings()
    first = security.keyed_digest("claim-code", "SN-1", "CODE")
    monkeypatch.setattr(
        security, "get_settings", lambda: dataclasses.replace(settings, local_server_secret=b"\x01" * 32)
    )
    second = security.keyed_digest("claim-code", "SN-1", "CODE")
    assert first != second
    assert security.keyed_digest("claim-code", "SN-1", "CODE") == second  # deterministic under one secret
    assert security.keyed_digest("id-code", "SN-1", "CODE") != second  # the purpose is part of the message


@pytest.mark.parametrize(
    "password, problems",
    [
        ("correct-horse-9-battery", ["an upper-case letter"]),
        ("CORRECT-HORSE-9-BATTERY", ["a lower-case letter"]),
        ("Correct-Horse-Nine-Battery", ["a digit"]),
        ("CorrectHorse9Battery", ["a special character"]),
        ("Zähler€Wasser2026", []),  # a symbol outside ASCII punctuation counts as special
        ("Goth2024!!!!", ["not a common password"]),  # a four-letter common word behind digits and symbols
    ],
)
def test_the_policy_names_exactly_the_rules_a_password_breaks(password, problems):
    assert security.password_problems(password) == problems


def test_a_password_of_exactly_the_maximum_length_passes_and_one_longer_does_not():
    longest = "Aa1!" + "x" * (security.PASSWORD_MAX_LENGTH - 4)
    assert security.password_problems(longest) == []
    assert security.password_problems(longest + "x") == [f"at most {security.PASSWORD_MAX_LENGTH} characters"]


def test_a_weak_password_is_refused_with_every_broken_rule_in_words_and_as_a_list():
    with pytest.raises(WeakPassword) as refused:
        security.check_password_policy("short")
    rules = ["at least 12 characters", "an upper-case letter", "a digit", "a special character"]
    assert refused.value.message == "The password needs " + ", ".join(rules) + "."
    assert refused.value.details == {"rules": rules}


def test_a_strong_password_passes_the_policy_check():
    security.check_password_policy("Correct-Horse-9-Battery")


def test_ids_and_tokens_have_their_documented_sizes():
    assert re.fullmatch(r"usr_[0-9a-f]{32}", security.new_id("usr"))
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", security.new_token())  # 32 bytes, unpadded
    temporary = security.new_temporary_password()
    assert len(temporary) == 20 and set(temporary) <= set(string.ascii_letters + string.digits + "-_.!@#%")


def test_keyed_digests_and_derived_ids_are_stable_across_releases():
    # Stored claim-code, ID-code and link hashes are these digests: a change to the derivation (separator,
    # encoding, length) would orphan every stored one. Known answers under the test suite's server secret.
    assert security.keyed_digest("claim-code", "SN-1", "ABC") == "Mg_4LmqSxX1WY-zdtgD-TL0wSZF4K9eqrd929ZVb-Z4"
    assert security.derived_id("org", "provisional", "a@example.com") == "org_f0cd33b386f2194c40c0abc38a8b5a58"
    assert security.keyed_digest("p", "ab", "c") != security.keyed_digest("p", "a", "bc")
