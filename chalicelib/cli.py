"""Operator CLI: bootstrap-operator, create-tables, sync-templates, import-devices (`python -m chalicelib.cli --help`)."""
import argparse
import sys

from chalicelib.errors import DomainError


def _bootstrap_operator(args) -> int:
    from chalicelib.services.bootstrap import bootstrap_operator

    result = bootstrap_operator(args.email, args.password)
    email = result["user"]["email"]
    if not result["created"]:
        print(f"An account for {email} exists already; nothing changed.")
    elif result["temporary_password"]:
        print(f"Operator created: {email}")
        print(f"One-time password: {result['temporary_password']}  (must be changed at first login)")
    else:
        print(f"Operator created: {email} with the given password (no change required).")
    return 0


def _create_tables(args) -> int:
    from chalicelib import models

    created = models.create_tables()
    print("Created: " + ", ".join(created) if created else "Every table exists already.")
    return 0


def _sync_templates(args) -> int:
    from chalicelib.services.templates import sync_default_templates

    result = sync_default_templates()
    print(f"System templates: {result['written']} written, {result['activated']} newly active.")
    return 0


def _import_devices(args) -> int:
    import time

    from chalicelib.services.device_import import import_file

    with open(args.file, "rb") as handle:
        total = max(sum(1 for _ in handle) - 1, 1)
    started = time.monotonic()

    def progress(line: int) -> None:
        done = min(line - 1, total)
        filled = int(30 * done / total)
        rate = done / max(time.monotonic() - started, 1e-6)
        print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,} rows  {rate:,.0f} rows/s",
              end="", file=sys.stderr, flush=True)

    report = args.report or args.file + ".report.csv"
    result = import_file(args.file, args.org, report, progress=progress)
    progress(total + 1)
    print(file=sys.stderr)
    print(f"Imported {result['imported']:,} devices; skipped {result['skipped']:,} already in the catalog; "
          f"rejected {result['rejected']:,} rows. Report: {report}")
    return 0 if result["rejected"] == 0 else 1


def main(argv=None) -> int:
    """Parse the command line and run one command; domain errors print their message and exit 2."""
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli",
                                     description="keyport operator commands (local stack or, with AWS "
                                                 "credentials and KEYPORT_STAGE, a deployed stage).")
    commands = parser.add_subparsers(dest="command", required=True)
    bootstrap = commands.add_parser("bootstrap-operator", help="create an OPERATOR account")
    bootstrap.add_argument("--email", required=True)
    bootstrap.add_argument("--password", help="set this password (must pass the policy; no change required)")
    bootstrap.set_defaults(run=_bootstrap_operator)
    tables = commands.add_parser("create-tables", help="create the stage's missing DynamoDB tables")
    tables.set_defaults(run=_create_tables)
    sync = commands.add_parser("sync-templates", help="load the system default mail templates from templates/mail")
    sync.set_defaults(run=_sync_templates)
    devices = commands.add_parser("import-devices", help="import a maker's device file of any size (resumable)")
    devices.add_argument("file", help="CSV (the columns of POST /devices/import) or .json with {\"items\": [...]}")
    devices.add_argument("--org", required=True, help="the maker organization's id")
    devices.add_argument("--report", help="where to write the per-row report (default: FILE.report.csv)")
    devices.set_defaults(run=_import_devices)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
