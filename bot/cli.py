"""The `crm` command: run everything, train, manage the store and staff."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.crm.enums import StaffRole
from bot.settings import KeyPurpose, load_settings

if TYPE_CHECKING:
    from bot.crm.store import CRMStore


def _run(args: argparse.Namespace) -> int:
    from bot.runner import run

    return run(load_settings(), import_csv=args.import_csv)


def _train(args: argparse.Namespace) -> int:
    from bot.training import ImportFileError, ensure_model, labels_dir

    labels = labels_dir(load_settings().var_dir)
    try:
        ensure_model(import_csv=args.import_csv, force=args.force, labels=labels)
    except ImportFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _model(_args: argparse.Namespace) -> int:
    from bot.training import current_model, labels_dir

    path = current_model(labels=labels_dir(load_settings().var_dir))
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
    """Kept from before the jobs framework: the `reindex` job, recorded like any run."""
    return _run_job("reindex")


def _job_store() -> CRMStore:
    from bot.crm.database import create_crm_engine
    from bot.crm.store import CRMStore

    return CRMStore(create_crm_engine(load_settings().database_url))


def _jobs_list(_args: argparse.Namespace) -> int:
    from bot.jobs.registry import JOBS, load_job

    schedule = dict(load_settings().job_schedule)
    latest = _job_store().jobs.latest(list(JOBS))
    for name in JOBS:
        run = latest.get(name)
        last = (
            f"last run {run['id']} {run['status'].value} {run['started_at']}"
            if run
            else "never run"
        )
        print(f"{name:<14} {schedule.get(name, 'not scheduled'):<16} {last}")
        print(f"{'':<14} {load_job(name).description}")
    return 0


def _jobs_run(args: argparse.Namespace) -> int:
    return _run_job(args.name)


def _run_job(name: str) -> int:
    """0 when the run succeeded, 1 when it failed, 2 for an unknown job, 3 when it is running."""
    import json

    from bot.crm.enums import JobTrigger
    from bot.crm.store.jobs import JobRunning
    from bot.jobs.registry import UnknownJob
    from bot.jobs.runner import JobFailed, run_job

    try:
        run = run_job(_job_store(), load_settings(), name, JobTrigger.CLI, show_progress=True)
    except UnknownJob as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except JobRunning as error:
        print(f"error: {error}; try again when it has finished", file=sys.stderr)
        return 3
    except JobFailed as failure:
        print(f"error: {failure}:\n{failure.run['error']}", file=sys.stderr)
        return 1
    print(f"run {run['id']} of {name} succeeded in {run['duration_s']:.1f} s")
    print(f"rows: {json.dumps(run['rows'], sort_keys=True)}")
    print(f"figures: {json.dumps(run['figures'], sort_keys=True, indent=2)}")
    return 0


def _page_size(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number from 1 to 1000")
    return int(raw)


def _jobs_runs(args: argparse.Namespace) -> int:
    import json

    runs, _ = _job_store().jobs.list(job=args.job, limit=args.limit)
    if not runs:
        print(f"no runs of {args.job}" if args.job else "no runs yet")
    for run in runs:
        took = f"{run['duration_s']:.1f} s" if run["duration_s"] is not None else "-"
        print(
            f"{run['id']:>6} {run['job']:<14} {run['status'].value:<10} {run['trigger'].value:<9}"
            f" {run['started_at']} {took:>9} {json.dumps(run['rows'] or {}, sort_keys=True)}"
        )
        if run["error"]:
            print(f"{'':>6} {run['error'].strip().splitlines()[-1]}")
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


def _drain(_args: argparse.Namespace) -> int:
    """Until SIGTERM or Ctrl-C: RabbitMQ's queue of the turns' writes into the CRM store."""
    import asyncio
    import logging
    import signal

    from bot.outbox.amqp import Drainer

    settings = load_settings()
    if not settings.amqp_url:
        print("error: crm drain needs CRM_AMQP_URL (RabbitMQ)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    drainer = Drainer(settings)

    async def drain() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, drainer.stopping.set)
        await drainer.run()

    try:
        asyncio.run(drain())
    finally:
        drainer.close()
    print(f"crm drain: {drainer.applied} messages applied", flush=True)
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
        "reindex", help="rebuild the similar-ticket index (the same as `crm jobs run reindex`)"
    ).set_defaults(handler=_reindex)

    jobs = commands.add_parser("jobs", help="batch jobs and their runs").add_subparsers(
        dest="jobs", required=True
    )
    jobs.add_parser("list", help="every job, its schedule and its last run").set_defaults(
        handler=_jobs_list
    )
    run_one = jobs.add_parser(
        "run",
        help="run a job now, with a progress bar",
        description="Exit status: 0 succeeded, 1 failed, 2 no such job, 3 already running.",
    )
    run_one.add_argument("name")
    run_one.set_defaults(handler=_jobs_run)
    runs = jobs.add_parser("runs", help="the recorded runs, newest first")
    runs.add_argument("--job", help="only this job's runs")
    runs.add_argument("--limit", type=_page_size, default=20, help="how many, 1-1000 (default 20)")
    runs.set_defaults(handler=_jobs_runs)

    staff = commands.add_parser("staff", help="staff accounts").add_subparsers(
        dest="staff", required=True
    )
    create = staff.add_parser("create", help="create an agent or supervisor account")
    create.add_argument("username")
    create.add_argument("--role", choices=StaffRole.values(), default=StaffRole.AGENT.value)
    create.set_defaults(handler=_staff_create)

    commands.add_parser(
        "drain", help="write RabbitMQ's queue of the turns' writes to the CRM store"
    ).set_defaults(handler=_drain)

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
