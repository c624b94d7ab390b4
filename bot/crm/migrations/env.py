"""Alembic environment: runs the CRM migrations against the URL set by bot.crm.database."""

from alembic import context

from bot.crm import models_delivery, models_supervision  # noqa: F401 (register tables on Base)
from bot.crm.database import create_crm_engine
from bot.crm.models import Base

config = context.config
target_metadata = Base.metadata
# Rasa's SQL tracker store may share the database; its tables are not ours to migrate.
RASA_TABLES = {"events"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "table" and name in RASA_TABLES)


def run_migrations_online() -> None:
    engine = create_crm_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
