"""The nag-time job, in the order its pushes go out."""

from __future__ import annotations

from datetime import datetime

from services.chasing.case_nags import case_nags
from services.chasing.job import (
    PUSHES_PER_TRANSACTION,
    AfterChunk,
    ChasingTexts,
    Outcome,
    Pusher,
    collector_held,
    load_tree,
)
from services.chasing.patrol_nags import patrol_nags
from services.chasing.roll_call import roll_calls
from services.chasing.rules import Rules
from services.chasing.sweep import sweep
from storage.db import Database


async def run_daily(
    db: Database,
    *,
    now: datetime,
    rules: Rules,
    texts: ChasingTexts,
    chunk: int = PUSHES_PER_TRANSACTION,
    after_chunk: AfterChunk | None = None,
) -> Outcome:
    """Patrol nags and shortfalls, case reminders, 催办 and escalations, the untaken sweep,
    and the roll calls.

    The city is read in a read-only unit of work, so handlers keep the write lock while the
    job thinks; each escalation commits on its own as it is decided, and the pushes are
    queued afterwards, `chunk` rows per transaction (`after_chunk` is called after each)."""
    outcome = Outcome()
    with collector_held():
        async with db.reading() as reader:
            tree, holdings = await load_tree(reader)
            push = Pusher(
                reader,
                db=db,
                now=now,
                rules=rules,
                texts=texts,
                people=tree.people,
                outcome=outcome,
            )
            laggards = await patrol_nags(reader, push, tree, holdings)
            overdue = await case_nags(reader, push, tree)
            await sweep(reader, push, tree)
            await roll_calls(reader, push, tree, laggards, overdue)
        del tree, holdings, laggards, overdue
        await push.write(chunk=chunk, after_chunk=after_chunk)
    return outcome
