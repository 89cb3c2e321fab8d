"""An index on the event log by record, for one appointment's timeline.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_entity_id", "events", ["entity", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_entity_id", table_name="events")
