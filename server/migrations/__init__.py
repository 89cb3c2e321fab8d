"""Alembic migrations, applied at start by `server.database.Database.migrate`."""

# The newest revision: when the database already has it, the server skips
# loading Alembic at start. A test checks it matches the scripts' head.
HEAD = "0005"
