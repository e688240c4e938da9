"""Alembic environment for Banyan's own tables; always driven programmatically (runtime/migrate.py)."""
from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table="banyan_alembic_version")
with context.begin_transaction():
    context.run_migrations()
