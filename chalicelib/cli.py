"""Operator CLI: bootstrap-operator, create-tables, sync-templates, import-devices, export-keys, recount
(`python -m chalicelib.cli --help`).

On the local stack it needs nothing but KEYPORT_HOME (the port and server secret `make run` left there); on a
deployed stage (KEYPORT_STAGE dev|prod) AWS credentials, KEYPORT_SERVER_SECRET_ARN and KEYPORT_KMS_KEY_ARN.
Every failure is one line on stderr; the exit code says which kind (EXIT_* below).
"""

import argparse
import os
import sys
import threading
import time
import traceback
from typing import TYPE_CHECKING, Callable, List, Optional, TextIO

from chalicelib import __version__
from chalicelib.cli_stage import SetupError, explain_failure, stage_environment
from chalicelib.errors import DomainError

if TYPE_CHECKING:  # imported on first use at run time
    from chalicelib.permissions import Principal

EXIT_DONE = 0
EXIT_REJECTED = 1  # import-devices: some rows were rejected (see the report)
EXIT_USAGE = 2  # bad arguments, or the command cannot run here (missing file, no stack, no credentials)
EXIT_REFUSED = 3  # the service refused (a DomainError: weak password, unknown organization, no right to keys)
EXIT_UNEXPECTED = 4  # a bug or an outage: one line, and --debug shows the traceback
# Devices stored (and counted on the bar) at a time. 1,000 left the count still for 4-5 s on DynamoDB Local; 250
# moves it about every second at the same speed (5,000 devices: 20.5 s at 1,000, 17.5 s at 250, here).
IMPORT_CHUNK = 250


class ProgressBar:
    """One line on a stream, redrawn at least every `interval` seconds even while no row arrives (a chunk of rows
    is stored at once and may take a while): the elapsed time and the spinner show it is alive."""

    SPINNER = "|/-\\"

    def __init__(
        self,
        total: int,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.5,
        width: int = 30,
    ) -> None:
        self.total, self.stream, self.clock, self.interval, self.width = max(total, 1), stream, clock, interval, width
        self.done, self.draws, self.started = 0, 0, clock()
        self.drawn_at = self.started - interval  # the first advance draws
        self._lock = threading.Lock()

    def advance(self, done: int) -> None:
        """Rows done so far; redraws only if the line is older than the interval (a fast file draws rarely)."""
        self.done = min(max(done, 0), self.total)
        if self.clock() - self.drawn_at >= self.interval:
            self.draw()

    def draw(self) -> None:
        """Write the line again: bar, rows, rate, elapsed time."""
        with self._lock:
            now = self.clock()
            elapsed = now - self.started
            filled = int(self.width * self.done / self.total)
            rate = self.done / elapsed if elapsed > 0 else 0.0
            spin = self.SPINNER[self.draws % len(self.SPINNER)] if self.done < self.total else " "
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (self.width - filled)}] {self.done:,}/{self.total:,} rows  "
                f"{rate:,.0f} rows/s  {int(elapsed) // 60}:{int(elapsed) % 60:02d} {spin}"
            )
            self.stream.flush()
            self.drawn_at, self.draws = now, self.draws + 1

    def finish(self, complete: bool) -> None:
        """Draw the last state (full if the work is complete, else where it stopped) and end the line, so what
        follows starts on a line of its own; a bar never shown stays unshown."""
        if complete:
            self.done = self.total
        if complete or self.draws or self.done:
            self.draw()
        if self.draws:
            self.stream.write("\n")
            self.stream.flush()

    def keep_drawing(self, stop: threading.Event) -> None:
        """Redraw every interval until stop is set (run in a thread beside the import)."""
        while not stop.wait(self.interval):
            self.draw()


def _bootstrap_operator(args: argparse.Namespace) -> int:
    from chalicelib.services.tenants.bootstrap import bootstrap_operator

    result = bootstrap_operator(args.email, args.password)
    email = result["user"]["email"]
    if not result["created"]:
        print(f"An account for {email} exists already; nothing changed.")
    elif result["temporary_password"]:
        print(f"Operator created: {email}")
        print(f"One-time password: {result['temporary_password']}  (must be changed at first login)")
    else:
        print(f"Operator created: {email} with the given password (no change required).")
    return EXIT_DONE


def _create_tables(args: argparse.Namespace) -> int:
    from chalicelib import models

    created = models.create_tables()
    print("Created: " + ", ".join(created) if created else "Every table exists already.")
    return EXIT_DONE


def _sync_templates(args: argparse.Namespace) -> int:
    from chalicelib.services.mail_templates.templates import sync_default_templates

    result = sync_default_templates()
    print(f"System templates: {result['written']} written, {result['activated']} newly active.")
    return EXIT_DONE


def _import_devices(args: argparse.Namespace) -> int:
    from chalicelib.services.devices.importing import import_file

    is_json = args.file.endswith(".json")
    total = _count_items(args.file) if is_json else _count_rows(args.file)
    report = args.report or args.file + ".report.csv"
    folder = os.path.dirname(os.path.abspath(report))
    if not os.access(folder, os.W_OK) or (os.path.exists(report) and not os.access(report, os.W_OK)):
        raise SetupError(f"cannot write the report {report}: permission denied or no such folder")
    bar = ProgressBar(total, sys.stderr)
    stop = threading.Event()
    ticker = threading.Thread(target=bar.keep_drawing, args=(stop,), daemon=True)
    ticker.start()
    header = 0 if is_json else 1  # the import reports the line (CSV, after its header) or item (JSON) it reached
    result = None
    try:
        result = import_file(
            args.file, args.org, report, progress=lambda line: bar.advance(line - header), chunk=IMPORT_CHUNK
        )
    finally:
        stop.set()
        ticker.join()
        bar.finish(complete=result is not None)
    print(
        f"Imported {result['imported']:,} devices; skipped {result['skipped']:,} already in the catalog; "
        f"rejected {result['rejected']:,} rows. Report: {report}"
    )
    return EXIT_DONE if result["rejected"] == 0 else EXIT_REJECTED


def _recount(args: argparse.Namespace) -> int:
    from chalicelib.services.tenants.counts import recount_orgs

    done = 0
    for org_id, counts in recount_orgs(args.after):
        done += 1
        # One line per organization, flushed: after a stop, the last line names what --after resumes from.
        invited = sum(total for kind, total in counts.items() if kind.startswith("invitations#"))
        print(f"recounted {org_id}: {counts.get('users', 0)} users, {invited} invitations", flush=True)
    print(f"Recounted {done} organization(s).")
    return EXIT_DONE


def _count_rows(path: str) -> int:
    """The data rows of a CSV file, checked to be UTF-8 line by line first (so a wrong file stops before the
    import begins, naming the line)."""
    try:
        with open(path, "rb") as handle:
            lines = 0
            for lines, raw in enumerate(handle, start=1):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise SetupError(
                        f"{path} is not UTF-8 text (line {lines} cannot be read); save it as UTF-8 CSV"
                    ) from None
    except OSError as error:
        raise SetupError(f"cannot read {path}: {error.strerror}") from None
    return max(lines - 1, 1)


def _count_items(path: str) -> int:
    """The items of a JSON device file, which must be {"items": [...]}."""
    import json

    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as error:
        raise SetupError(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise SetupError(f"{path} is not a device file: {str(error).splitlines()[0]}") from None
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise SetupError(f'{path} is not a device file: it must be {{"items": [...]}}')
    return max(len(document["items"]), 1)


def _acting_principal(email: str) -> "Principal":
    """The principal of an existing, active account: the CLI acts with its rights, and the services check them."""
    from chalicelib.errors import NotAuthenticated, PasswordChangeRequired
    from chalicelib.services.accounts.sessions import principal_of
    from chalicelib.services.tenants.users import find_user_by_email

    user = find_user_by_email(email)
    if user is None or user.status != "ACTIVE":
        raise NotAuthenticated(f"No active account has the e-mail {email}.")
    if user.must_change_password:
        raise PasswordChangeRequired(f"{user.email} must change the temporary password first (log in once).")
    return principal_of(user)


def _export_keys(args: argparse.Namespace) -> int:
    import json

    from chalicelib.services.keys.downloads import download_keys

    recipient = None
    if args.recipient_jwk:
        try:
            with open(args.recipient_jwk) as handle:
                recipient = json.load(handle)
        except (OSError, ValueError) as error:
            raise SetupError(
                f"cannot read the recipient key {args.recipient_jwk}: {getattr(error, 'strerror', None) or error}"
            ) from None
    if args.out and os.path.exists(args.out):
        raise SetupError(f"{args.out} exists already; name another file (key files are never overwritten)")
    filters = {
        name: value
        for name, value in (
            ("serial", args.serial),
            ("product_type", args.product_type),
            ("label", args.label),
            ("batch_id", args.batch_id),
        )
        if value
    }
    file = download_keys(
        _acting_principal(args.acting_as), args.format, filters, org_id=args.org, recipient_jwk=recipient
    )
    path = args.out or file["file_name"]
    body = file["body"].encode("utf-8") if isinstance(file["body"], str) else file["body"]
    write_private(path, body)
    print(f"Wrote {path} ({len(body):,} bytes, {file['media_type'].split(';')[0]}, readable by you only).")
    return EXIT_DONE


def write_private(path: str, body: bytes) -> None:
    """Write a new file readable by its owner only (0600), whole or not at all; SetupError if it exists."""
    part = f"{path}.{os.getpid()}.part"
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        os.link(part, path)  # fails if the name was taken meanwhile: never replaces a file
    except FileExistsError:
        raise SetupError(f"{path} exists already; name another file (key files are never overwritten)") from None
    except OSError as error:
        raise SetupError(f"cannot write {path}: {error.strerror}") from None
    finally:
        if os.path.exists(part):
            os.remove(part)


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per operator task."""
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.cli",
        description="keyport operator commands: on the local stack (KEYPORT_HOME) or, "
        "with AWS credentials and KEYPORT_STAGE, on a deployed stage.",
        epilog="exit codes: 0 done, 1 some rows rejected, 2 usage or setup, "
        "3 refused by the service, 4 unexpected (rerun with --debug)",
    )
    parser.add_argument("--version", action="version", version=f"keyport {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    bootstrap = commands.add_parser("bootstrap-operator", help="create an OPERATOR account")
    bootstrap.add_argument("--email", required=True)
    bootstrap.add_argument("--password", help="set this password (must pass the policy; no change required)")
    bootstrap.set_defaults(run=_bootstrap_operator)
    tables = commands.add_parser("create-tables", help="create the stage's missing DynamoDB tables")
    tables.set_defaults(run=_create_tables)
    sync = commands.add_parser("sync-templates", help="load the system default mail templates from templates/mail")
    sync.set_defaults(run=_sync_templates)
    devices = commands.add_parser("import-devices", help="import a maker's device file of any size (resumable)")
    devices.add_argument("file", help='CSV (the columns of POST /devices/import) or .json with {"items": [...]}')
    devices.add_argument("--org", required=True, help="the maker organization's id")
    devices.add_argument("--report", help="where to write the per-row report (default: FILE.report.csv)")
    devices.set_defaults(run=_import_devices)
    recount = commands.add_parser(
        "recount",
        help="rebuild the list totals' counters from the items (users, invitations by state); resumable",
    )
    recount.add_argument(
        "--after", metavar="ORG_ID", help="resume after this organization (the last one a stopped run printed)"
    )
    recount.set_defaults(run=_recount)
    export = commands.add_parser(
        "export-keys",
        help="the keys of the CLAIMED devices an account may download, as a file (what GET /devices/keys answers)",
    )
    export.add_argument(
        "--as",
        dest="acting_as",
        required=True,
        metavar="EMAIL",
        help="act as this account, with its rights (ORG_ADMIN, KEY_MANAGER or OPERATOR)",
    )
    export.add_argument("--org", help="one organization in the account's scope (default: its whole scope)")
    export.add_argument("--format", choices=("csv", "json", "jwe"), default="csv")
    export.add_argument(
        "--recipient-jwk", metavar="FILE", help="jwe: the recipient's public JWK (default: the account's profile key)"
    )
    export.add_argument("--serial", metavar="PREFIX", help="only serials starting with this")
    for name in ("product-type", "label", "batch-id"):
        export.add_argument("--" + name, help="only devices with this " + name.replace("-", " "))
    export.add_argument("--out", help="the file to write (0600, never overwritten; default: the service's name)")
    export.set_defaults(run=_export_keys)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Parse the command line, prepare the stage's environment and run one command; answer the exit code."""
    args = build_parser().parse_args(argv)  # usage errors: argparse prints them and exits 2
    try:
        added = stage_environment(os.environ)
        if added:
            os.environ.update(added)
            from chalicelib.config import get_settings

            get_settings.cache_clear()  # in case anything read the settings before the environment was complete
        return args.run(args)
    except SetupError as error:
        return _fail(str(error), EXIT_USAGE)
    except DomainError as error:
        return _fail(error.message, EXIT_REFUSED)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as error:
        explained = explain_failure(error, os.environ)
        if args.debug:
            traceback.print_exc()
            return EXIT_USAGE if explained and explained[1] else EXIT_UNEXPECTED
        if explained:
            line, setup = explained
            return _fail(
                line if setup else f"{line} (rerun with --debug for the traceback)",
                EXIT_USAGE if setup else EXIT_UNEXPECTED,
            )
        first_line = (str(error).splitlines() or [""])[0][:200]
        return _fail(
            f"unexpected {type(error).__name__}: {first_line} (rerun with --debug for the traceback)", EXIT_UNEXPECTED
        )


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
