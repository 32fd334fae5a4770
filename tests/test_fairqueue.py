"""The fair queue alone (no workers): round-robin across users, per-user caps, positions."""

from __future__ import annotations

import threading

from inspector.jobs.fairqueue import FairQueue


def test_users_take_turns_and_a_burst_waits_behind_its_own_cap():
    queue: FairQueue[str] = FairQueue(per_user=1)
    for number in range(5):
        queue.put("alice", f"a{number}")
    queue.put("bob", "b0")
    assert queue.get() == ("alice", "a0")
    # Alice is at her cap: Bob is served although four of hers wait ahead of him in time.
    assert queue.get() == ("bob", "b0")
    assert queue.ahead("alice", "a3") == 2
    assert queue.ahead("bob", "b0") is None  # already served
    queue.done("alice")
    assert queue.get() == ("alice", "a1")


def test_round_robin_order_and_positions():
    queue: FairQueue[str] = FairQueue(per_user=2)
    for item in ("a0", "a1", "a2"):
        queue.put("a", item)
    for item in ("b0", "b1"):
        queue.put("b", item)
    assert queue.ahead("b", "b1") == 3  # a0, b0, a1 go first
    order = [queue.get(), queue.get()]
    queue.done("a")
    queue.done("b")
    order += [queue.get(), queue.get()]
    assert [item for _, item in order] == ["a0", "b0", "a1", "b1"]


def test_remove_and_drain_and_blocking_get():
    queue: FairQueue[str] = FairQueue()
    queue.put("a", "x")
    assert queue.remove("a", "x") and not queue.remove("a", "x")
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(queue.get()))
    waiter.start()
    queue.put("b", "y")
    waiter.join(timeout=5)
    assert got == [("b", "y")]
    queue.put("c", "z")
    assert queue.drain() == ["z"] and queue.get() is None


def test_a_slot_takes_only_what_it_accepts_and_users_keep_their_turns():
    """A Ray node's slot: a CPU-only node passes over a user whose next job needs a GPU."""
    queue: FairQueue[str] = FairQueue(per_user=1)
    queue.put("ann", "ann-gpu")
    queue.put("ann", "ann-cpu")
    queue.put("ben", "ben-cpu")
    cpu_only = lambda job: not job.endswith("gpu")  # noqa: E731
    assert queue.get(accept=cpu_only) == ("ben", "ben-cpu")  # ann's head job waits for a GPU
    assert queue.get() == ("ann", "ann-gpu")
    assert queue.remove_where(lambda job: job.startswith("ann")) == ["ann-cpu"]
    assert queue.waiting() == 0
