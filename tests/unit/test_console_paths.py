"""The console pages mails and API answers link to: paths built in one place, the address carried safely."""

from urllib.parse import parse_qs, urlsplit

from chalicelib.console_paths import batch_path, sign_in_path


def test_the_sign_in_path_carries_the_address_so_that_it_reads_back_unchanged():
    path = sign_in_path("ada+keys&x=1@example.com")
    parts = urlsplit(path)
    assert parts.path == "/console/login" and parse_qs(parts.query) == {"email": ["ada+keys&x=1@example.com"]}


def test_the_sign_in_path_names_the_language_and_what_was_done_and_nothing_empty():
    assert sign_in_path() == "/console/login"
    assert sign_in_path(language="fr") == "/console/login?lang=fr"
    assert (
        sign_in_path("a@example.com", "de", "accepted") == "/console/login?email=a%40example.com&lang=de&done=accepted"
    )


def test_a_batch_id_stays_one_path_segment():
    assert batch_path("bat_1/../x") == "/console/batches/bat_1%2F..%2Fx"
