"""Import rows: read a maker's CSV or JSON, validate every row, group the key rows of each device.

Pure functions over text: no database, so the API and the CLI (files of any size, streamed) share them.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, Iterator, List, Optional, TextIO, Tuple, Union

from chalicelib.errors import BadRequest
from chalicelib.fields import text_problem

# Key lengths in bytes per algorithm (API.md): DES 8, AES-128 16, AES-192 24, AES-256 32.
ALGORITHM_BYTES = {"DES": 8, "AES128": 16, "AES192": 24, "AES256": 32}
REQUIRED_COLUMNS = ("serial", "product_type", "mac", "key_name", "algorithm", "key_hex")
OPTIONAL_COLUMNS = ("id_code", "claim_code", "labels", "claim_valid_from", "claim_valid_to")
DEVICE_FIELDS = ("product_type", "mac", "id_code", "claim_code", "labels", "claim_valid_from", "claim_valid_to")
MAX_LABELS, MAX_LABEL_LENGTH, MAX_KEYS = 20, 50, 32

RESERVED_SERIALS = ("import", "keys")  # GET /devices/keys, POST /devices/import
SERIAL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"
_SERIAL = re.compile(SERIAL_PATTERN)
_KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
_HEX = re.compile(r"^[0-9a-fA-F]*$")
# MAC-48 and EUI-64 (LoRaWAN DevEUI) in the usual notations: aa:bb:.., AA-BB-.., aabb.ccdd.eeff, bare hex.
_MAC_NOTATIONS = [
    re.compile(pattern)
    for pattern in (
        r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$",
        r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){6}$",
        r"^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$",
        r"^[0-9a-f]{12}$|^[0-9a-f]{16}$",
    )
]
# Codes people type from a sticker: spaces and hyphens are grouping, case does not matter.
_CODE_GROUPING = re.compile(r"[\s-]+")
_CODE = re.compile(r"^[A-Z0-9]+$")
ID_CODE_MIN, CLAIM_CODE_MIN, CODE_MAX = 4, 8, 64


class ImportFileInvalid(BadRequest):
    code, message = "import_file_invalid", "The file cannot be read as a device import."


class RowInvalid(ValueError):
    """One row's problem, worded for the person who fixes the file."""


def normalize_mac(raw: str) -> str:
    """Lower-case colon form of a MAC-48 or EUI-64 in any usual notation; RowInvalid otherwise."""
    value = (raw or "").strip().lower()
    if not any(notation.match(value) for notation in _MAC_NOTATIONS):
        raise RowInvalid(
            "mac must be 6 or 8 bytes of hex such as 00:1a:2b:3c:4d:5e, 00-1A-2B-3C-4D-5E or 001a.2b3c.4d5e"
        )
    digits = re.sub(r"[^0-9a-f]", "", value)
    return ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def normalize_code(raw: str, name: str, minimum: int) -> str:
    """A claim or ID code without grouping, upper case; RowInvalid when too short, too long or not alphanumeric."""
    value = _CODE_GROUPING.sub("", raw or "").upper()
    if not _CODE.match(value) or not minimum <= len(value) <= CODE_MAX:
        raise RowInvalid(f"{name} must be {minimum} to {CODE_MAX} letters or digits (spaces and hyphens are ignored)")
    return value


def _timestamp(raw: str, name: str) -> Optional[datetime]:
    value = (raw or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RowInvalid(
            f"{name} must be an ISO 8601 date or time such as 2027-01-31 or 2027-01-31T12:00:00Z"
        ) from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def parse_labels(raw: Union[str, List[Any], None]) -> List[str]:
    """Labels from "a|b" or a list: trimmed, without blanks and repeats; RowInvalid past the limits."""
    parts = raw.split("|") if isinstance(raw, str) else list(raw or [])
    labels: List[str] = []
    for part in parts:
        label = str(part).strip()
        if not label:
            continue
        if len(label) > MAX_LABEL_LENGTH:
            raise RowInvalid(f"a label may be at most {MAX_LABEL_LENGTH} characters long")
        problem = text_problem(label)
        if problem:
            raise RowInvalid(f"a label {problem}")
        if label not in labels:
            labels.append(label)
    if len(labels) > MAX_LABELS:
        raise RowInvalid(f"a device may have at most {MAX_LABELS} labels")
    return labels


@dataclass
class DeviceDraft:
    """One valid device of an import: its fields, its keys and the lines they came from."""

    serial: str
    fields: Dict[str, Any]
    keys: List[Dict[str, str]] = field(default_factory=list)
    lines: List[int] = field(default_factory=list)


@dataclass
class Rejection:
    """A row that was not imported, and why."""

    line: int
    serial: Optional[str]
    error: str

    def view(self) -> Dict[str, Any]:
        """As the import answer lists it."""
        return {"line": self.line, "serial": self.serial, "error": self.error}


def _device_fields(row: Dict[str, Any]) -> Dict[str, Any]:
    product_type = str(row.get("product_type") or "").strip()
    if not 1 <= len(product_type) <= 100:
        raise RowInvalid("product_type is required (at most 100 characters)")
    problem = text_problem(product_type)
    if problem:
        raise RowInvalid(f"product_type {problem}")
    fields: Dict[str, Any] = {
        "product_type": product_type,
        "mac": normalize_mac(str(row.get("mac") or "")),
        "id_code": None,
        "claim_code": None,
        "labels": parse_labels(row.get("labels")),
        "claim_valid_from": _timestamp(str(row.get("claim_valid_from") or ""), "claim_valid_from"),
        "claim_valid_to": _timestamp(str(row.get("claim_valid_to") or ""), "claim_valid_to"),
    }
    if str(row.get("id_code") or "").strip():
        fields["id_code"] = normalize_code(str(row["id_code"]), "id_code", ID_CODE_MIN)
    if str(row.get("claim_code") or "").strip():
        fields["claim_code"] = normalize_code(str(row["claim_code"]), "claim_code", CLAIM_CODE_MIN)
    if (
        fields["claim_valid_from"]
        and fields["claim_valid_to"]
        and fields["claim_valid_to"] <= fields["claim_valid_from"]
    ):
        raise RowInvalid("claim_valid_to must be later than claim_valid_from")
    return fields


def _key(row: Dict[str, Any]) -> Dict[str, str]:
    name = str(row.get("key_name") or row.get("name") or "").strip()
    if not _KEY_NAME.match(name):
        raise RowInvalid("key_name must be 1 to 64 letters, digits, spaces, dots, hyphens or underscores")
    algorithm = str(row.get("algorithm") or "").strip().upper().replace("-", "")
    if algorithm not in ALGORITHM_BYTES:
        raise RowInvalid("algorithm must be one of DES, AES128, AES192, AES256")
    hex_value = re.sub(r"\s+", "", str(row.get("key_hex") or row.get("hex") or ""))
    if not _HEX.match(hex_value) or len(hex_value) % 2:
        raise RowInvalid("key_hex must be hexadecimal digits (two per byte)")
    if len(hex_value) != 2 * ALGORITHM_BYTES[algorithm]:
        raise RowInvalid(
            f"key_hex of an {algorithm} key must be {ALGORITHM_BYTES[algorithm]} bytes "
            f"({2 * ALGORITHM_BYTES[algorithm]} hex digits), not {len(hex_value) // 2}"
        )
    return {"name": name, "algorithm": algorithm, "hex": hex_value.lower()}


class _Group:
    """The key rows of one serial while they are read."""

    def __init__(self, serial: str, item: Any) -> None:
        self.serial, self.item = serial, item
        self.draft: Optional[DeviceDraft] = None
        self.problems: List[Tuple[int, str]] = []  # (line, error)
        self.lines: List[int] = []

    def add(self, line: int, row: Dict[str, Any]) -> None:
        self.lines.append(line)
        if row.get("_problem"):
            self.problems.append((line, f"the row {row['_problem']}"))
            return
        try:
            fields, key = _device_fields(row), _key(row)
        except RowInvalid as problem:
            self.problems.append((line, str(problem)))
            return
        if self.draft is None:
            self.draft = DeviceDraft(self.serial, fields)
        else:
            differing = [name for name in DEVICE_FIELDS if fields[name] != self.draft.fields[name]]
            if differing:
                self.problems.append(
                    (line, f"{', '.join(differing)} differs from line {self.draft.lines[0]} of the same serial")
                )
                return
        if any(existing["name"].lower() == key["name"].lower() for existing in self.draft.keys):
            self.problems.append((line, f"key_name {key['name']!r} appears twice for this serial"))
            return
        if len(self.draft.keys) >= MAX_KEYS:
            self.problems.append((line, f"a device may have at most {MAX_KEYS} keys"))
            return
        self.draft.keys.append(key)
        self.draft.lines.append(line)

    def result(self) -> Union[DeviceDraft, List[Rejection]]:
        if not self.problems:
            assert self.draft is not None  # a group holds a row at least: it made the draft or a problem
            return self.draft
        bad = dict(self.problems)
        first = self.problems[0][0]
        return [
            Rejection(line, self.serial, bad.get(line, f"not imported: line {first} of the same device is invalid"))
            for line in dict.fromkeys(self.lines)
        ]


def group_rows(rows: Iterable[Tuple[int, Dict[str, Any]]]) -> Iterator[Union[DeviceDraft, List[Rejection]]]:
    """Devices from numbered rows: a DeviceDraft when all rows of a serial are valid, else their Rejections.

    A device's key rows must be consecutive (in JSON: one item): the same serial again later is a duplicate.
    """
    seen: Dict[str, int] = {}
    group: Optional[_Group] = None
    for line, row in rows:
        serial = str(row.get("serial") or "").strip()
        if group is not None and (serial != group.serial or row.get("_item") != group.item):
            yield group.result()
            group = None
        if not serial and row.get("_problem"):
            yield [Rejection(line, None, f"the row {row['_problem']}")]
            continue
        if serial.lower() in RESERVED_SERIALS:
            yield [Rejection(line, serial, f"{serial!r} names a route (/devices/{serial.lower()}), not a device")]
            continue
        if not _SERIAL.match(serial):
            shown = serial[:64] if not text_problem(serial[:64]) else None  # the report must stay writable text
            yield [
                Rejection(
                    line,
                    shown or None,
                    "serial must be 3 to 64 letters, digits, dots, hyphens or "
                    "underscores, starting with a letter or digit",
                )
            ]
            continue
        if group is None:
            if serial in seen:
                yield [
                    Rejection(
                        line,
                        serial,
                        f"serial {serial} already appeared at line {seen[serial]}; list each "
                        "device once, its key rows one after another",
                    )
                ]
                continue
            seen[serial] = line
            group = _Group(serial, row.get("_item"))
        group.add(line, row)
    if group is not None:
        yield group.result()


def csv_rows(source: Union[str, TextIO]) -> Iterator[Tuple[int, Dict[str, str]]]:
    """Numbered rows of a CSV import, from text or an open file (streamed): line 1 is the header, `;` or `,`
    is detected from it, a UTF-8 byte order mark is ignored."""
    lines = io.StringIO(source, newline="") if isinstance(source, str) else source
    header_line = lines.readline().lstrip("\ufeff")
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    header = [name.strip().lower() for name in next(csv.reader([header_line], delimiter=delimiter), [])]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        problems = (
            ([f"missing column(s): {', '.join(missing)}"] if missing else [])
            + ([f"unknown column(s): {', '.join(name[:40] for name in unknown[:10])}"] if unknown else [])
            + (["a column appears twice"] if len(set(header)) != len(header) else [])
        )
        raise ImportFileInvalid(
            "The header row is not a device import header: "
            + "; ".join(problems)
            + f". Columns: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}."
        )
    reader = csv.reader(lines, delimiter=delimiter)
    line = 1
    try:
        for cells in reader:
            line = reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                yield (
                    line,
                    {
                        "serial": cells[0] if cells else "",
                        "_problem": f"has {len(cells)} cells, the header {len(header)}",
                    },
                )
                continue
            yield line, dict(zip(header, cells))
    except csv.Error as error:
        raise ImportFileInvalid(f"Line {line + 1} is not valid CSV ({error}).") from None


def json_rows(items: List[Any]) -> Iterator[Tuple[int, Dict[str, Any]]]:
    """Numbered key rows of a JSON import: "line" is the item's position (1-based)."""
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            yield number, {"_item": number, "_problem": "is not an object"}
            continue
        keys = item.get("keys")
        if not isinstance(keys, list) or not keys:
            yield (
                number,
                {
                    **_device_part(item),
                    "_item": number,
                    "_problem": "keys must be a non-empty list of {name, algorithm, hex}",
                },
            )
            continue
        for key in keys:
            key = key if isinstance(key, dict) else {}
            yield (
                number,
                {
                    **_device_part(item),
                    "_item": number,
                    "key_name": key.get("name"),
                    "algorithm": key.get("algorithm"),
                    "key_hex": key.get("hex"),
                },
            )


def _device_part(item: Dict[str, Any]) -> Dict[str, Any]:
    part = {name: item.get(name) for name in ("serial",) + DEVICE_FIELDS}
    return {name: (value if name == "labels" or value is None else str(value)) for name, value in part.items()}
