"""The app database (SQLAlchemy + Alembic): engine, models, the publish ledger, stories; `resource`."""
