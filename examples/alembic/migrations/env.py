"""Alembic's environment: migrations run against $DATABASE_URL."""
import os
from logging.config import fileConfig

import sqlalchemy
from alembic import context

if context.config.config_file_name is not None:
    fileConfig(context.config.config_file_name)

# SQLAlchemy wants its driver in the scheme; pgtmp's URL works as it is otherwise.
url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)

with sqlalchemy.create_engine(url).connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
