"""`make mutants`: mutation testing (mutmut) of the code that guards tenants and keys; prints the score per module
and every surviving mutant; exits 1 below the target.

Each module is mutated in its own copy of the tree with only the test files that exercise it (mutmut then runs,
for each mutant, only those of them that call the mutated function, fastest first, stopping at the first failure).
A surviving mutant judged equivalent (no test could tell it apart) is listed in scripts/mutants-equivalent.txt with
one line on why; it leaves the denominator and is printed apart. A listing names the mutant by its function and a
digest of its change ("token_hash@1a2b3c4d"), not by mutmut's number, so that it survives edits elsewhere in the
function and moves of the module; `--rekey` rewrites listings still made of mutmut's names.

    python scripts/mutants.py [--only permissions,claims] [--children 2] [--keep] [--rekey]
"""

import argparse
import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from typing import Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "mutants-work")
EQUIVALENT_FILE = os.path.join(ROOT, "scripts", "mutants-equivalent.txt")
TARGET = 0.90

# module mutated -> the test files that exercise it (unit and in-process API tiers: DynamoDB Local and the browser
# are too slow to run once per mutant), and, for a large module, only the functions that guard tenants and keys.
MODULES = {
    "chalicelib/permissions.py": (
        [
            "tests/unit/test_permissions.py",
            "tests/unit/test_grant_property.py",
            "tests/api/test_grant_rules.py",
            "tests/api/test_authorization_matrix.py",
        ],
        None,
    ),
    "chalicelib/security.py": (
        ["tests/unit/test_security.py", "tests/unit/test_server_secret.py", "tests/unit/test_sessions.py"],
        None,
    ),
    "chalicelib/crypto.py": (["tests/unit/test_crypto.py", "tests/unit/test_export_storage.py"], None),
    "chalicelib/paging.py": (["tests/unit/test_paging.py", "tests/api/test_cursors.py"], None),
    "chalicelib/services/devices/claims.py": (["tests/api/test_claims.py"], None),
    "chalicelib/services/keys/downloads.py": (
        ["tests/unit/test_key_downloads.py", "tests/unit/test_export_worker.py"],
        None,
    ),
    "chalicelib/services/keys/files.py": (["tests/unit/test_key_files.py", "tests/unit/test_key_downloads.py"], None),
    # the worker: it re-authorizes the requester before it writes a file of keys
    "chalicelib/services/keys/exports.py": (
        ["tests/unit/test_export_worker.py"],
        ["run_export", "_write_and_store", "_fail", "export_file"],
    ),
    "chalicelib/services/tenants/invitations.py": (
        ["tests/unit/test_invitation_links.py"],
        ["accept_invitation", "_by_token", "view_invitation"],
    ),
    # login and its lockout
    "chalicelib/services/accounts/own_account.py": (
        ["tests/unit/test_login.py"],
        ["log_in", "_reserve_attempt", "_get_attempts", "clear_login_failures", "_attempts_key", "_reference_matches"],
    ),
    "chalicelib/services/accounts/sessions.py": (["tests/unit/test_sessions.py"], None),
    "chalicelib/services/throttle.py": (["tests/unit/test_throttle.py"], None),
    "chalicelib/services/portal/access_codes.py": (["tests/unit/test_portal_access.py"], None),
    "chalicelib/services/portal/sessions.py": (["tests/unit/test_portal.py"], None),
}
ALSO_COPY = ["app.py", "templates", ".chalice", "pytest.ini"]
STATUS = re.compile(r"^\s*(\S+): (.+)$")


def equivalent_mutants() -> dict:
    """Listing (function@digest, or a mutmut name) -> why it is equivalent, from scripts/mutants-equivalent.txt."""
    found = {}
    if os.path.exists(EQUIVALENT_FILE):
        for line in open(EQUIVALENT_FILE, encoding="utf-8"):
            name, _, why = line.partition("#")
            if name.strip():
                found[name.strip()] = why.strip()
    return found


MUTANT_NAME = re.compile(r"^.*?\.x(?:_|ǁ(?P<cls>[^ǁ]+)ǁ)(?P<function>.+)__mutmut_\d+$")


def listing_of(name: str, diff: str) -> str:
    """The stable listing of a mutant: its function (Class.method for a method) and a digest of its change."""
    match = MUTANT_NAME.match(name)
    function = (
        name
        if match is None
        else (f"{match.group('cls')}.{match.group('function')}" if match.group("cls") else match.group("function"))
    )
    change = "\n".join(line[0] + line[1:].strip() for line in diff.splitlines() if line.strip())
    return f"{function}@{hashlib.sha256(change.encode()).hexdigest()[:8]}"


def rekey_equivalents(listings: dict) -> int:
    """Rewrite the equivalents file's lines that name mutmut's numbers with their stable listing; answer how many."""
    lines = open(EQUIVALENT_FILE, encoding="utf-8").read().splitlines()
    changed = 0
    for index, line in enumerate(lines):
        name, separator, why = line.partition("#")
        if name.strip() in listings:
            lines[index] = f"{listings[name.strip()]}  #{why}"
            changed += 1
    with open(EQUIVALENT_FILE, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return changed


def copy_tree(target: str) -> None:
    """The working tree's tracked and new files (not ignored ones: no venv, no node_modules) into target."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True, capture_output=True
        )
        .stdout.decode()
        .split("\0")
    )
    for relative in filter(None, listed):
        source = os.path.join(ROOT, relative)
        if os.path.isfile(source) and not os.path.islink(source):
            os.makedirs(os.path.dirname(os.path.join(target, relative)), exist_ok=True)
            shutil.copy2(source, os.path.join(target, relative))


def write_config(target: str, module: str, tests: list) -> None:
    """mutmut's [mutmut] section: mutate one module, select its tests, copy what the app needs."""
    lines = ["[mutmut]", "source_paths = chalicelib", f"only_mutate = {module}", "also_copy ="]
    lines += [f"    {path}" for path in ALSO_COPY]
    lines += ["pytest_add_cli_args_test_selection ="] + [f"    {path}" for path in tests]
    with open(os.path.join(target, "setup.cfg"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def mutmut(target: str, *args: str, log=None) -> str:
    """Run mutmut in the copy with this interpreter; answer its output (or write it to log)."""
    command = [sys.executable, "-m", "mutmut", *args]
    if log is not None:
        subprocess.run(command, cwd=target, stdout=log, stderr=subprocess.STDOUT, check=False)
        return ""
    return subprocess.run(command, cwd=target, capture_output=True, text=True, check=False).stdout


def mutant_patterns(module: str, functions: Optional[list]) -> list:
    """mutmut's names of the mutants of these functions (methods and nested functions included); [] for all."""
    prefix = os.path.splitext(module.replace("/", "."))[0]
    return [f"{prefix}.x{separator}{name}__mutmut_*" for name in functions or () for separator in ("_", "*ǁ")]


def run_module(module: str, tests: list, functions: Optional[list], children: int) -> dict:
    """Mutate one module (or some of its functions) in a fresh copy; answer {mutant name: status}."""
    target = os.path.join(WORK, os.path.splitext(module.replace("/", "."))[0])
    shutil.rmtree(target, ignore_errors=True)
    copy_tree(target)
    write_config(target, module, tests)
    patterns = mutant_patterns(module, functions)
    with open(os.path.join(target, "mutmut-run.log"), "w", encoding="utf-8") as log:
        mutmut(target, "run", "--max-children", str(children), *patterns, log=log)
    statuses = {}
    for line in mutmut(target, "results", "--all", "true").splitlines():
        match = STATUS.match(line)
        if match and (not patterns or any(fnmatch.fnmatchcase(match.group(1), pattern) for pattern in patterns)):
            statuses[match.group(1)] = match.group(2).strip()
    return {"statuses": statuses, "target": target}


def diff_of(target: str, name: str) -> str:
    """The changed lines of one mutant."""
    shown = mutmut(target, "show", name)
    return "\n".join(line for line in shown.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---")))


def main() -> int:
    """Run the modules asked for, print the table and the survivors, exit 1 below the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated module stems, e.g. permissions,claims")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep", action="store_true", help="keep mutants-work/ for `mutmut show/apply`")
    parser.add_argument("--rekey", action="store_true", help="rewrite listings by mutmut name as function@digest")
    args = parser.parse_args()
    wanted = set(args.only.split(",")) if args.only else None
    modules = {
        module: plan
        for module, plan in MODULES.items()
        if wanted is None or os.path.splitext(os.path.basename(module))[0] in wanted
    }
    equivalent = equivalent_mutants()
    rows, survivors, judged, seen, rekeyed = [], [], [], set(), {}
    started = time.monotonic()
    for module, (tests, functions) in modules.items():
        began = time.monotonic()
        result = run_module(module, tests, functions, args.children)
        counts = {"killed": 0, "survived": 0, "no tests": 0, "equivalent": 0, "other": 0}
        for name, status in sorted(result["statuses"].items()):
            seen.add(name)
            # A timeout is a mutant the tests stopped (an endless loop): killed, as mutmut counts it.
            if status in ("killed", "timeout"):
                counts["killed"] += 1
                continue
            diff = diff_of(result["target"], name)
            listing = listing_of(name, diff)
            seen.add(listing)
            if name in equivalent or listing in equivalent:
                counts["equivalent"] += 1
                judged.append((listing, equivalent.get(listing) or equivalent[name], diff))
                if name in equivalent:
                    rekeyed[name] = listing
            else:
                counts[status if status in counts else "other"] += 1
                survivors.append((module, name, listing, status, diff))
        scored = sum(counts.values()) - counts["equivalent"]
        rows.append((module, counts, scored, time.monotonic() - began))
        print(f"{module}: {counts['killed']}/{scored} killed ({time.monotonic() - began:.0f} s)", flush=True)
        if not args.keep:
            shutil.rmtree(result["target"], ignore_errors=True)
    print()
    print(f"{'module':42} {'mutants':>7} {'killed':>6} {'surv.':>5} {'no test':>7} {'equiv.':>6} {'score':>6}")
    for module, counts, scored, _ in rows:
        score = counts["killed"] / scored if scored else 1.0
        print(
            f"{module:42} {scored + counts['equivalent']:7} {counts['killed']:6} {counts['survived']:5} "
            f"{counts['no tests']:7} {counts['equivalent']:6} {score:6.1%}"
        )
    killed = sum(counts["killed"] for _, counts, _, _ in rows)
    scored = sum(scored for _, _, scored, _ in rows)
    total = killed / scored if scored else 1.0
    print(
        f"{'all':42} {'':7} {killed:6} {'':5} {'':7} {len(judged):6} {total:6.1%}   "
        f"({time.monotonic() - started:.0f} s, target {TARGET:.0%})"
    )
    if survivors:
        print("\nSurviving mutants:")
        for module, name, listing, status, diff in survivors:
            print(f"  {name} ({status}), to list it as equivalent: {listing}")
            print("\n".join("      " + line for line in diff.splitlines()))
    if judged:
        print("\nJudged equivalent (scripts/mutants-equivalent.txt):")
        for listing, why, diff in judged:
            print(f"  {listing}: {why}")
            print("\n".join("      " + line for line in diff.splitlines()))
    if rekeyed and args.rekey:
        print(f"\nRewrote {rekey_equivalents(rekeyed)} listings of mutmut names as function@digest.")
    elif rekeyed:
        print(f"\n{len(rekeyed)} listings still name mutmut's numbers: run with --rekey to make them stable.")
    if args.only is None:
        stale = [name for name in equivalent if name not in seen]
        if stale:
            print("\nListed as equivalent but no longer made (changed? re-judge them): " + ", ".join(stale))
    return 0 if total >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
