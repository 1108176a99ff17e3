"""Operator CLI: bootstrap-operator, create-tables, sync-templates (`python -m chalicelib.cli --help`)."""
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
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
