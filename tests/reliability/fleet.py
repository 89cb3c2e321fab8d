"""Headless clients (the real services.client.Client) doing random valid work,
with exactly-once witnesses, and the checks that they converged. The workers
and the convergence check live in testkit.workload (the soak benchmark
uses them too); what is asserted here is the reliability suites' own.
"""

from __future__ import annotations

import sqlite3

from testkit import workload
from testkit.server import ServerProcess
from testkit.workload import Worker


def check_exactly_once(srv: ServerProcess, workers: list[Worker]) -> int:
    """Every witness queued (and not refused) is in the log exactly once."""
    for w in workers:
        assert not w.client.failed(), (w.name, [(e.name, e.error) for e in w.client.failed()])
    notes = [t for w in workers for t in w.notes]
    slots = [s for w in workers for s in w.slots]
    problems = workload.witness_problems(srv.database_url, notes, slots)
    assert not problems, problems[:10]
    return len(notes) + len(slots)


async def converge(srv: ServerProcess, workers: list[Worker], timeout: float = 180) -> None:
    """Each client's store equals what the server's bootstrap gives its user."""
    problems = await workload.converge(srv.url, [w.client for w in workers], timeout)
    assert not problems, f"client did not converge: {problems[:3]}"


def check_database(srv: ServerProcess) -> None:
    """The SQLite file is intact and its event log gap-free up to the head."""
    con = sqlite3.connect(srv.database_url.removeprefix("sqlite:///"))
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        seqs = [r[0] for r in con.execute("SELECT seq FROM events ORDER BY seq")]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "gap in the event log"
        assert con.execute("SELECT seq FROM log_head").fetchone()[0] == seqs[-1]
    finally:
        con.close()
