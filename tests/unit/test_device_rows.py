"""Import rows: formats, normalization and every per-row refusal."""

import pytest

from chalicelib.services.devices.import_rows import (
    ImportFileInvalid,
    RowInvalid,
    csv_rows,
    group_rows,
    json_rows,
    normalize_code,
    normalize_mac,
)
from chalicelib.services.devices.importing import split_results

HEADER = "serial;product_type;mac;id_code;claim_code;labels;key_name;algorithm;key_hex\n"
AES128 = "00112233445566778899aabbccddeeff"


def row(
    serial="SN-1",
    key_name="app",
    algorithm="AES128",
    key_hex=AES128,
    mac="00:1a:2b:3c:4d:5e",
    product="meter",
    id_code="ID-4711",
    claim_code="CLAIM-2024-XY",
    labels="a|b",
):
    return f"{serial};{product};{mac};{id_code};{claim_code};{labels};{key_name};{algorithm};{key_hex}\n"


def parse(text):
    return split_results(group_rows(csv_rows(text)))


@pytest.mark.parametrize(
    "given", ["00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5e", "001a.2b3c.4d5e", "001A2B3C4D5E", " 00:1a:2b:3c:4d:5e "]
)
def test_mac_notations_normalize_to_lower_case_colon_form(given):
    assert normalize_mac(given) == "00:1a:2b:3c:4d:5e"


def test_an_eui64_is_accepted_for_lorawan_devices():
    assert normalize_mac("70-B3-D5-7E-D0-01-02-03") == "70:b3:d5:7e:d0:01:02:03"


@pytest.mark.parametrize("given", ["", "00:1a:2b:3c:4d", "00:1a-2b:3c:4d:5e", "00:1a:2b:3c:4d:5g", "zz", "0" * 14])
def test_malformed_macs_are_refused(given):
    with pytest.raises(RowInvalid):
        normalize_mac(given)


def test_codes_ignore_grouping_and_case():
    assert normalize_code("abcd-1234 efgh", "claim_code", 8) == "ABCD1234EFGH"


@pytest.mark.parametrize("given", ["ABC-123", "ÄBCDEFGHIJ", "A" * 65, "ABCD$1234"])
def test_short_long_or_non_alphanumeric_claim_codes_are_refused(given):
    with pytest.raises(RowInvalid):
        normalize_code(given, "claim_code", 8)


def test_key_rows_of_one_serial_make_one_device_with_every_key():
    drafts, rejected = parse(HEADER + row(key_name="app") + row(key_name="net", algorithm="AES256", key_hex="ab" * 32))
    assert rejected == []
    [device] = drafts
    assert device.serial == "SN-1" and device.lines == [2, 3]
    assert [key["name"] for key in device.keys] == ["app", "net"]
    assert device.fields["mac"] == "00:1a:2b:3c:4d:5e" and device.fields["labels"] == ["a", "b"]
    assert device.fields["claim_code"] == "CLAIM2024XY" and device.fields["id_code"] == "ID4711"


@pytest.mark.parametrize(
    "algorithm,hex_digits", [("DES", 16), ("AES128", 32), ("AES192", 48), ("AES256", 64), ("aes-128", 32)]
)
def test_each_algorithm_takes_its_own_key_length(algorithm, hex_digits):
    drafts, rejected = parse(HEADER + row(algorithm=algorithm, key_hex="a" * hex_digits))
    assert rejected == [] and len(drafts) == 1
    assert parse(HEADER + row(algorithm=algorithm, key_hex="a" * (hex_digits + 2)))[1][0].error.startswith("key_hex")


@pytest.mark.parametrize(
    "bad_row,message",
    [
        (row(serial="x"), "serial must be"),
        (row(mac="00:11"), "mac must be"),
        (row(algorithm="RSA"), "algorithm must be one of"),
        (row(key_hex="zz" * 16), "key_hex must be hexadecimal"),
        (row(key_hex=AES128[:-2]), "must be 16 bytes"),
        (row(product=""), "product_type is required"),
        (row(claim_code="SHORT"), "claim_code must be"),
        (row(key_name=""), "key_name must be"),
        (row(labels="x" * 51), "label may be at most"),
    ],
)
def test_a_bad_row_is_rejected_with_its_line_and_a_reason(bad_row, message):
    drafts, rejected = parse(HEADER + row(serial="SN-0") + bad_row + row(serial="SN-2"))
    assert [draft.serial for draft in drafts] == ["SN-0", "SN-2"]
    assert len(rejected) == 1 and rejected[0].line == 3 and message in rejected[0].error


def test_rows_of_one_serial_with_different_device_fields_reject_the_device():
    drafts, rejected = parse(HEADER + row() + row(key_name="net", mac="00:1a:2b:3c:4d:5f"))
    assert drafts == []
    assert [(r.line, r.error) for r in rejected] == [
        (2, "not imported: line 3 of the same device is invalid"),
        (3, "mac differs from line 2 of the same serial"),
    ]


def test_the_same_key_name_twice_rejects_the_device():
    drafts, rejected = parse(HEADER + row() + row())
    assert drafts == [] and "appears twice" in rejected[1].error


def test_a_serial_appearing_again_later_is_a_duplicate():
    drafts, rejected = parse(HEADER + row(serial="SN-1") + row(serial="SN-2") + row(serial="SN-1", key_name="x"))
    assert [draft.serial for draft in drafts] == ["SN-1", "SN-2"]
    assert rejected[0].line == 4 and "already appeared at line 2" in rejected[0].error


def test_comma_files_with_a_bom_and_windows_line_ends_are_read():
    text = (
        "\ufeff"
        + HEADER.replace(";", ",").replace("\n", "\r\n")
        + row(labels="a").replace(";", ",").replace("\n", "\r\n")
    )
    drafts, rejected = parse(text)
    assert rejected == [] and drafts[0].serial == "SN-1"


def test_a_row_with_the_wrong_number_of_cells_is_rejected():
    drafts, rejected = parse(HEADER + "SN-9;meter;00:1a:2b:3c:4d:5e\n")
    assert drafts == [] and "has 3 cells, the header 9" in rejected[0].error


def test_claim_window_must_end_after_it_starts():
    header = HEADER.rstrip("\n") + ";claim_valid_from;claim_valid_to\n"
    good = parse(header + row().rstrip("\n") + ";2027-01-01;2027-06-30T12:00:00Z\n")
    assert good[0][0].fields["claim_valid_to"].isoformat() == "2027-06-30T12:00:00+00:00"
    bad = parse(header + row().rstrip("\n") + ";2027-06-30;2027-01-01\n")
    assert "later than" in bad[1][0].error


@pytest.mark.parametrize(
    "header,problem",
    [
        ("serial;mac\n", "missing column(s): product_type, key_name, algorithm, key_hex"),
        (HEADER.rstrip("\n") + ";secret\n", "unknown column(s): secret"),
        (HEADER.rstrip("\n") + ";mac\n", "a column appears twice"),
    ],
)
def test_a_header_that_is_not_an_import_header_refuses_the_file(header, problem):
    with pytest.raises(ImportFileInvalid) as refused:
        parse(header + row())
    assert problem in refused.value.message


def test_json_items_are_numbered_by_position_and_checked_like_rows():
    items = [
        {
            "serial": "SN-1",
            "product_type": "meter",
            "mac": "001a2b3c4d5e",
            "labels": ["x"],
            "keys": [{"name": "app", "algorithm": "AES128", "hex": AES128}],
        },
        "not an object",
        {"serial": "SN-3", "product_type": "meter", "mac": "001a2b3c4d5e", "keys": []},
        {
            "serial": "SN-1",
            "product_type": "meter",
            "mac": "001a2b3c4d5e",
            "keys": [{"name": "app", "algorithm": "AES128", "hex": AES128}],
        },
    ]
    drafts, rejected = split_results(group_rows(json_rows(items)))
    assert [draft.serial for draft in drafts] == ["SN-1"] and drafts[0].fields["labels"] == ["x"]
    assert [(r.line, r.serial) for r in rejected] == [(2, None), (3, "SN-3"), (4, "SN-1")]
    assert "already appeared" in rejected[2].error


@pytest.mark.parametrize(
    "product,labels,message",
    [
        ("meter\x1b[31m", "a", "product_type must not contain control characters"),
        ("me\x00ter", "a", "product_type must not contain control characters"),
        ("me\u0085ter", "a", "product_type must not contain control characters"),
        ("meter\tX", "a", "product_type must be one line"),
        ("meter", "roof\x07", "a label must not contain control characters"),
        ("meter", "a|ro\tof", "a label must be one line"),
    ],
)
def test_control_characters_in_a_csv_rows_text_reject_that_row(product, labels, message):
    drafts, rejected = parse(HEADER + row(serial="SN-0") + row(product=product, labels=labels) + row(serial="SN-2"))
    assert [draft.serial for draft in drafts] == ["SN-0", "SN-2"]
    assert [(r.line, r.serial) for r in rejected] == [(3, "SN-1")] and message in rejected[0].error


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("product_type", "Meter\ud800", "product_type must be text: it holds an unpaired UTF-16 surrogate"),
        ("labels", ["roof\udfff"], "a label must be text"),
        ("labels", ["line\nbreak"], "a label must be one line"),
        ("serial", "SN-\ud800", "serial must be"),
    ],
)
def test_unpaired_surrogates_and_control_characters_in_json_items_reject_that_item(field, value, message):
    good = {
        "serial": "SN-1",
        "product_type": "meter",
        "mac": "001a2b3c4d5e",
        "keys": [{"name": "app", "algorithm": "AES128", "hex": AES128}],
    }
    drafts, rejected = split_results(group_rows(json_rows([{**good, "serial": "SN-0"}, {**good, field: value}])))
    assert [draft.serial for draft in drafts] == ["SN-0"]
    assert len(rejected) == 1 and rejected[0].line == 2 and message in rejected[0].error
    assert rejected[0].serial in ("SN-1", None)  # a serial that is not text is not echoed into the report
