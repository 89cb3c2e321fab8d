"""The initial schema: records, users, events, log_head, command_log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("entity", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("date", sa.String(10)),
        sa.Column("status", sa.String(40)),
        sa.Column("owner", sa.String(200)),
    )
    op.create_index("ix_records_entity_date", "records", ["entity", "date"])
    op.create_index("ix_records_entity_status", "records", ["entity", "status"])
    op.create_index("ix_records_entity_owner", "records", ["entity", "owner"])
    op.create_table(
        "users",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("op", sa.String(10), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("data", sa.Text),
        sa.Column("cause", sa.String(100), nullable=False),
        sa.Column("audience_users", sa.Text, nullable=False),
        sa.Column("to_operators", sa.Boolean, nullable=False),
        sa.Column("to_everyone", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "log_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("trimmed_through", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(
        sa.table("log_head", sa.column("id"), sa.column("seq"), sa.column("trimmed_through")),
        [{"id": 1, "seq": 0, "trimmed_through": 0}],
    )
    op.create_table(
        "command_log",
        sa.Column("client_id", sa.String(200), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    for table in ("command_log", "log_head", "events", "users", "records"):
        op.drop_table(table)
