"""Alembic environment: runs on a connection handed in by `chainfluence.migrations.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

import chainfluence.models  # noqa: F401  (registers every table)
from chainfluence.kit.db import Base
from chainfluence.kit.dialect import prepare_for_migrations

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    prepare_for_migrations(connection)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `chainfluence db upgrade`")
_run(connection)
