"""Questions per client: one budget shared by every surface that asks (`/api/ask`, its stream, `/v1`, the helpdesk).

Built on `limits` (the library behind slowapi); the routes spend it through `RateLimitDep`
(bot/api/deps.py), the helpdesk directly. The window is kept in this process's memory.
"""

from __future__ import annotations

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

RATE_LIMITED_MESSAGE = "Vous avez posé beaucoup de questions en peu de temps : patientez une minute avant de réessayer."


class RateLimited(Exception):
    """The client asked more than its budget: the route answers 429 with Retry-After."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(RATE_LIMITED_MESSAGE)
        self.retry_after_s = retry_after_s


class QuestionBudget:
    """`admission.rate_limit` (https://limits.readthedocs.io notation) per client address."""

    def __init__(self, limit: str) -> None:
        self.item = parse(limit)
        self.window = MovingWindowRateLimiter(MemoryStorage())

    def spend(self, client: str) -> None:
        if not self.window.hit(self.item, client):
            raise RateLimited(self.item.get_expiry())
