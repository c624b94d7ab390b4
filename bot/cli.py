"""The `crm` command: run everything, train, manage the store and staff."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.crm.enums import StaffRole
from bot.settings import KeyPurpose, load_settings


def _run(args: argparse.Namespace) -> int:
    from bot.runner import run

    return run(load_settings(), import_csv=args.import_csv)


def _train(args: argparse.Namespace) -> int:
    from bot.training import ImportFileError, ensure_model

    try:
        ensure_model(import_csv=args.import_csv, force=args.force)
    except ImportFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _model(_args: argparse.Namespace) -> int:
    from bot.settings import PROJECT_ROOT
    from bot.training import fingerprint, model_path

    path = model_path(PROJECT_ROOT / "models", fingerprint())
    if not path.exists():
        print("error: no model for the current inputs; run `crm train`", file=sys.stderr)
        return 1
    print(path)
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    from bot.crm.database import migrate

    migrate(load_settings().database_url)
    print("the CRM store is at the newest schema")
    return 0


def _seed(_args: argparse.Namespace) -> int:
    from bot.setup import prepare_store

    _, password = prepare_store(load_settings())
    if password:
        print(f"created the admin account; password: {password}")
    return 0


def _reindex(_args: argparse.Namespace) -> int:
    from bot.crm.database import create_crm_engine
    from bot.crm.store.tickets import TicketStore
    from bot.crm.ticket_search import TicketSearch

    settings = load_settings()
    tickets = TicketStore(create_crm_engine(settings.database_url))
    count = TicketSearch(tickets, settings.similar_index_dir, writer=True).rebuild()
    print(f"indexed {count} resolved tickets in {settings.similar_index_dir}")
    return 0


def _staff_create(args: argparse.Namespace) -> int:
    import getpass

    from bot.crm.database import create_crm_engine
    from bot.crm.store.staff import StaffStore

    password = getpass.getpass(f"password for {args.username}: ")
    if len(password) < 10:
        print("error: the password must have at least 10 characters", file=sys.stderr)
        return 2
    accounts = StaffStore(create_crm_engine(load_settings().database_url))
    try:
        staff = accounts.create(args.username, password, StaffRole(args.role))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"created {staff.role.value} {staff.username} (id {staff.id})")
    return 0


def _token(args: argparse.Namespace) -> int:
    from bot.crm.database import create_crm_engine
    from bot.crm.store.customers import CustomerStore
    from bot.identity import issue_customer_token

    settings = load_settings()
    if not CustomerStore(create_crm_engine(settings.database_url)).exists(args.customer_id):
        print(f"error: customer {args.customer_id} not found", file=sys.stderr)
        return 2
    print(issue_customer_token(settings.key_for(KeyPurpose.CUSTOMER_TOKEN), args.customer_id))
    return 0


def _endpoints(args: argparse.Namespace) -> int:
    from bot.endpoints import write_endpoints

    settings = load_settings()
    print(write_endpoints(settings, args.out or settings.var_dir / "endpoints.yml"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="prepare and start Rasa, actions and the console")
    run.add_argument(
        "--import",
        dest="import_csv",
        type=Path,
        metavar="FILE.csv",
        help="train with extra labelled examples (CSV with text,intent)",
    )
    run.set_defaults(handler=_run)

    train = commands.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument(
        "--import",
        dest="import_csv",
        type=Path,
        metavar="FILE.csv",
        help="add labelled examples from a CSV with columns text,intent",
    )
    train.add_argument("--force", action="store_true", help="train even if a model exists")
    train.set_defaults(handler=_train)

    commands.add_parser("model", help="print the model trained on the current inputs").set_defaults(
        handler=_model
    )

    db = commands.add_parser("db", help="the CRM store").add_subparsers(dest="db", required=True)
    db.add_parser("migrate", help="create or upgrade the schema").set_defaults(handler=_migrate)
    db.add_parser("seed", help="migrate, create admin, seed demo data once").set_defaults(
        handler=_seed
    )

    commands.add_parser(
        "reindex", help="rebuild the similar-ticket index from all resolved tickets"
    ).set_defaults(handler=_reindex)

    staff = commands.add_parser("staff", help="staff accounts").add_subparsers(
        dest="staff", required=True
    )
    create = staff.add_parser("create", help="create an agent or supervisor account")
    create.add_argument("username")
    create.add_argument("--role", choices=StaffRole.values(), default=StaffRole.AGENT.value)
    create.set_defaults(handler=_staff_create)

    token = commands.add_parser("token", help="print a signed widget token for a customer")
    token.add_argument("customer_id", type=int)
    token.set_defaults(handler=_token)

    endpoints = commands.add_parser(
        "endpoints", help="write Rasa's endpoints.yml, with the action server's key, from settings"
    )
    endpoints.add_argument(
        "--out", type=Path, help="where to write it (mode 0600); default var/endpoints.yml"
    )
    endpoints.set_defaults(handler=_endpoints)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
