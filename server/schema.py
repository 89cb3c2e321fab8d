"""The tables, as SQLAlchemy Core metadata (the migrations create the same).

records      every domain record as JSON text, with the few columns the
             command path filters on (date, status, owner) so loading what a
             command needs stays indexed.
users        login identities and their token generation; the visible
             profile is the `staff` record with the same id (no secrets in
             records).
events       the event log: commit-ordered `seq` handed out under the writer
             lock, the record as its audience sees it, and the audience.
log_head     one row: the last committed seq and how far the log was trimmed.
             Writers take it first, which also serializes them on PostgreSQL.
command_log  (client_id, seq) → the first response: exactly-once commands.
receipts     payment receipt photos, per appointment under the SHA-256 of their
             bytes (server.receipts): never in records or event frames; the
             payment commands name them by that hash.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

records = sa.Table(
    "records",
    metadata,
    sa.Column("entity", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("date", sa.String(10)),
    sa.Column("status", sa.String(40)),
    sa.Column("owner", sa.String(200)),
    sa.Index("ix_records_entity_date", "entity", "date"),
    sa.Index("ix_records_entity_status", "entity", "status"),
    sa.Index("ix_records_entity_owner", "entity", "owner"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    # Tokens carry the generation they were issued in; a password reset moves
    # it on, which refuses every older token (server.accounts).
    sa.Column("token_generation", sa.Integer, nullable=False, server_default="0"),
    # A one-time password (staff.create, staff.reset_password) must be
    # changed at first sign-in; account.change_password keeps the session
    # that changed it: the sha256 of its token (server.accounts).
    sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("kept_token", sa.String(64)),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("entity", sa.String(32), nullable=False),
    sa.Column("id", sa.String(200), nullable=False),
    sa.Column("op", sa.String(10), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("data", sa.Text),
    sa.Column("cause", sa.String(100), nullable=False),
    sa.Column("audience_users", sa.Text, nullable=False),  # JSON list of user ids
    sa.Column("to_operators", sa.Boolean, nullable=False),
    sa.Column("to_everyone", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    # one record's history (GET /api/appointments/{id}/timeline), without a scan
    sa.Index("ix_events_entity_id", "entity", "id"),
)

log_head = sa.Table(
    "log_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("trimmed_through", sa.BigInteger, nullable=False),
)

command_log = sa.Table(
    "command_log",
    metadata,
    sa.Column("client_id", sa.String(200), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("user_id", sa.String(200), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

receipts = sa.Table(
    "receipts",
    metadata,
    sa.Column("appointment_id", sa.String(200), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),  # sha256 of data, hex
    sa.Column("content_type", sa.String(40), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("uploaded_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)
