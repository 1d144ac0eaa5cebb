"""Alembic migrations: one tree for PostgreSQL and SQLite (batch mode for SQLite's ALTERs)."""
