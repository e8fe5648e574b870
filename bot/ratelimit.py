"""Questions per client: one budget shared by every asking route (`/api/ask`, its stream, `/v1`).

Built on `limits` (the library behind slowapi) as a FastAPI dependency, so that a router
defined outside `create_api` gets the same limit; the window is kept in this process's memory.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
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
    """`ask_rate_limit` (https://limits.readthedocs.io notation) per client address."""

    def __init__(self, limit: str) -> None:
        self.item = parse(limit)
        self.window = MovingWindowRateLimiter(MemoryStorage())

    def spend(self, client: str) -> None:
        if not self.window.hit(self.item, client):
            raise RateLimited(self.item.get_expiry())


def spend_question_budget(request: Request) -> None:
    budget: QuestionBudget = request.app.state.question_budget
    budget.spend(request.client.host if request.client else "inconnu")


RateLimitDep = Annotated[None, Depends(spend_question_budget)]
