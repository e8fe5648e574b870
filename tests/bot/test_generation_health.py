"""/api/health and a remote model server: a server busy generating for other residents (llama.cpp's server does not
answer its model list while it generates) is alive, not « degraded »; a server whose last call failed is probed.
bench/scale.py saw the false « degraded » for a whole 60-second load of two workers on one llama.cpp server."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bot.answer.generation import GenerationError, OpenAICompatibleGenerator
from bot.answer.prompts import Prompt
from tests.fixtures.doubles import drained
from tests.fixtures.factories import make_settings

PROMPT = Prompt(messages=[{"role": "user", "content": "Quand ?"}], question="Quand ?", evidence=[])


class BusyServer:
    """TEST DOUBLE of the OpenAI client on a server that streams tokens but lets its model list time out."""

    def __init__(self) -> None:
        self.down = False
        self.listed = 0
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self.create))
        self.models = SimpleNamespace(list=self.list_models)

    def with_options(self, **_: Any) -> BusyServer:
        return self

    def list_models(self) -> None:
        self.listed += 1
        raise TimeoutError("model list not answered in time")

    def create(self, **_: Any) -> Any:
        if self.down:
            raise ConnectionError("connection refused")
        delta = SimpleNamespace(content="samedi ", finish_reason=None)
        return iter([SimpleNamespace(choices=[SimpleNamespace(delta=delta, finish_reason="stop")])])


def generator(alive_after_reply_s: float) -> tuple[OpenAICompatibleGenerator, BusyServer]:
    settings = make_settings(
        generation__backend="openai",
        generation__base_url="http://127.0.0.1:9/v1",
        generation__alive_after_reply_s=alive_after_reply_s,
    )
    server = BusyServer()
    model = OpenAICompatibleGenerator(settings)
    model._client = server
    return model, server


def test_a_server_that_just_replied_is_alive_though_its_model_list_times_out() -> None:
    model, server = generator(alive_after_reply_s=15)
    assert model.problem() is not None  # never replied yet: probed, and the probe times out
    drained(model.stream(PROMPT))
    assert model.problem() is None and server.listed == 1


def test_a_failed_call_since_the_last_reply_is_probed_and_reported() -> None:
    model, server = generator(alive_after_reply_s=15)
    drained(model.stream(PROMPT))
    server.down = True
    with pytest.raises(GenerationError):
        drained(model.stream(PROMPT))
    assert "serveur du modèle injoignable" in (model.problem() or "") and server.listed == 1


def test_an_old_reply_does_not_keep_the_server_alive() -> None:
    model, server = generator(alive_after_reply_s=0)
    drained(model.stream(PROMPT))
    assert model.problem() is not None and server.listed == 1
