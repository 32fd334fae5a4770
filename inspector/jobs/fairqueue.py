"""Jobs waiting for a worker, served round-robin across users, each user capped at N at once.

One user's burst waits behind its own cap and never blocks another user: with two workers and
a cap of one, a colleague's job starts on the free worker while the first user has five
queued. Within a user, first in first out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Generic, TypeVar

from inspector.errors import UsageError

Item = TypeVar("Item")


class FairQueue(Generic[Item]):
    """A blocking queue of (user, item); ``get`` takes the next user in turn who is under the
    cap; ``done`` says a user's item finished (its slot frees)."""

    def __init__(self, per_user: int = 1):
        if per_user < 1:
            raise UsageError("per_user must be at least 1")
        self.per_user = per_user
        self._queues: OrderedDict[str, deque[Item]] = OrderedDict()  # rotation order
        self._running: dict[str, int] = {}
        self._changed = threading.Condition()
        self._closed = False

    def put(self, user: str, item: Item) -> None:
        with self._changed:
            self._queues.setdefault(user, deque()).append(item)
            self._changed.notify_all()

    def _next_user(self, accept: Callable[[Item], bool] | None) -> str | None:
        for user, waiting in self._queues.items():
            if waiting and self._running.get(user, 0) < self.per_user and (
                    accept is None or accept(waiting[0])):
                return user
        return None

    def get(self, accept: Callable[[Item], bool] | None = None) -> tuple[str, Item] | None:
        """Block until some user under the cap has a job (whose next job ``accept`` takes,
        when given: a node's slot takes only what that node can run); None once closed."""
        with self._changed:
            while True:
                if self._closed:
                    return None
                user = self._next_user(accept)
                if user is not None:
                    item = self._queues[user].popleft()
                    self._running[user] = self._running.get(user, 0) + 1
                    self._queues.move_to_end(user)  # served: to the back of the rotation
                    return user, item
                self._changed.wait()

    def done(self, user: str) -> None:
        with self._changed:
            self._running[user] = max(0, self._running.get(user, 0) - 1)
            self._changed.notify_all()

    def remove(self, user: str, item: Item) -> bool:
        """Take a queued item out (a cancel before it started); False if it already left."""
        with self._changed:
            waiting = self._queues.get(user)
            if waiting is None or item not in waiting:
                return False
            waiting.remove(item)
            return True

    def remove_where(self, unwanted: Callable[[Item], bool]) -> list[Item]:
        """Take out every queued item ``unwanted`` picks (jobs no live node can run)."""
        with self._changed:
            taken = []
            for waiting in self._queues.values():
                for item in [i for i in waiting if unwanted(i)]:
                    waiting.remove(item)
                    taken.append(item)
            return taken

    def ahead(self, user: str, item: Item) -> int | None:
        """How many queued jobs will start before this one, serving users in turn (None when it
        is not queued). An estimate of order, not of time: jobs finish when they finish."""
        with self._changed:
            if item not in self._queues.get(user, ()):
                return None
            queues = {u: list(q) for u, q in self._queues.items()}
            # Users at their cap are passed over until their running jobs end.
            room = {u: self.per_user - self._running.get(u, 0) for u in queues}
            count = 0
            while any(queues.values()):
                served = False
                for current, waiting in queues.items():
                    if not waiting or room[current] <= 0:
                        continue
                    if waiting[0] == item:
                        return count
                    waiting.pop(0)
                    room[current] -= 1
                    count += 1
                    served = True
                if not served:  # everyone at the cap: by then their running jobs have ended
                    room = dict.fromkeys(queues, self.per_user)
            return None

    def at_cap(self, user: str) -> bool:
        """Whether ``user`` has as many items running as one user may: their queued ones wait
        for those, whatever the workers do."""
        with self._changed:
            return self._running.get(user, 0) >= self.per_user

    def drain(self) -> list[Item]:
        """Close the queue and return everything still waiting."""
        with self._changed:
            self._closed = True
            left = [item for waiting in self._queues.values() for item in waiting]
            self._queues.clear()
            self._changed.notify_all()
            return left

    def waiting(self) -> int:
        with self._changed:
            return sum(len(q) for q in self._queues.values())
