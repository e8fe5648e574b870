"""Generator: the embedded llama.cpp model by default, or any OpenAI-compatible server by URL."""

from __future__ import annotations

import ctypes
import logging
import math
import threading
import time
from collections.abc import Generator as Steps
from collections.abc import Iterator
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from bot.answer.prompts import NOT_FOUND_PHRASE, Prompt
from core.models import QWEN_CODER_GGUF, is_installed, model_path
from core.settings import Settings

log = logging.getLogger("cuabot.service")


class GenerationError(RuntimeError):
    """The model failed or ran out of time; the pipeline falls back to an extractive answer."""


# The answer's text piece by piece as the model writes it; the return value says whether the model was stopped
# by its token limit (`generation.max_tokens`), its last sentence cut off, rather than ending the answer itself.
Tokens = Steps[str, None, bool]


class Streamed:
    """A generator's stream read as plain text pieces; `cut` holds its return value once it is read to the end."""

    def __init__(self, tokens: Tokens) -> None:
        self._tokens = tokens
        self.cut = False

    def __iter__(self) -> Iterator[str]:
        self.cut = yield from self._tokens


class Generator(Protocol):
    name: str

    def stream(self, prompt: Prompt) -> Tokens: ...

    def judge(self, prompt: Prompt) -> float | None:
        """The share of « oui » in the model's first word answering the prompt's yes-or-no question (« oui » against
        « non »), or None when this generator cannot tell."""
        ...

    def count_tokens(self, messages: list[dict[str, str]]) -> int: ...


YES, NO = ("oui", "Oui", " oui", " Oui"), ("non", "Non", " non", " Non")


def yes_share(probabilities: dict[str, float]) -> float | None:
    """« oui » against « non » among a first token's probabilities (by token text), None when neither is there."""
    yes = sum(p for token, p in probabilities.items() if token in YES)
    no = sum(p for token, p in probabilities.items() if token in NO)
    return yes / (yes + no) if yes + no > 0 else None


class LlamaCppGenerator:
    """Qwen2.5-Coder-1.5B-Instruct (GGUF) in-process; one answer at a time (the model is not thread-safe)."""

    name = "llama.cpp"

    def __init__(self, settings: Settings, fixed_prefix: list[dict[str, str]]) -> None:
        from llama_cpp import Llama

        if not is_installed(QWEN_CODER_GGUF, settings.models_dir):
            raise RuntimeError("Modèle de langue absent : lancez « cuabot models install ».")
        self._llm = Llama(
            model_path=str(model_path(QWEN_CODER_GGUF, settings.models_dir)),
            n_ctx=settings.generation.context,
            n_threads=settings.generation.threads,
            n_batch=settings.generation.batch,
            use_mmap=settings.generation.use_mmap,
            verbose=False,
        )
        self._max_tokens = settings.generation.max_tokens
        self._repeat_penalty = settings.generation.repeat_penalty
        self._timeout = settings.generation.timeout_s
        self._lock = threading.Lock()
        self._prefix_len = self._evaluate_prefix(fixed_prefix)
        self._prefix_state = self._save_prefix()

    def _evaluate_prefix(self, messages: list[dict[str, str]]) -> int:
        """Read the fixed prompt prefix once, at start-up.

        Every answer then starts from this same cached state, so it depends on its own
        question only (not on the previous one) and skips ~450 prompt tokens.
        """
        tokens = self._tokens(_chatml(messages))
        self._llm.eval(tokens)
        return len(tokens)

    def _tokens(self, text: str) -> list[int]:
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _save_prefix(self) -> tuple[Any, int, np.ndarray]:
        """The prefix's cache (its sequence's KV cells, a few MB) and tokens, to restore after a prompt of another
        start (the verdict) has overwritten them; the whole llama state would also copy every batch's logits."""
        import llama_cpp

        size = llama_cpp.llama_state_seq_get_size(self._llm.ctx, 0)
        cells = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(self._llm.ctx, cells, size, 0)
        return cells, written, self._llm.input_ids[: self._prefix_len].copy()

    def _restore_prefix(self) -> None:
        """Put the prefix's cache back; should llama.cpp refuse it, read the prefix again (a few seconds) rather
        than answer after a cache that no longer holds it."""
        import llama_cpp

        cells, written, tokens = self._prefix_state
        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(self._llm.ctx), 0, -1, -1)
        if llama_cpp.llama_state_seq_set_data(self._llm.ctx, cells, written, 0) == written:
            self._llm.input_ids[: self._prefix_len] = tokens
            self._llm.n_tokens = self._prefix_len
            return
        log.warning("prefix cache not restored: reading the prefix again")
        self._llm.n_tokens = 0
        self._llm.eval(tokens.tolist())

    def judge(self, prompt: Prompt) -> float | None:
        """Read the prompt from its start (it does not begin with the prefix), take the first token's logits,
        « oui » against « non » (no token generated), then put the prefix's cache back for the next answer."""
        import llama_cpp

        tokens = self._tokens(_chatml(prompt.messages) + "<|im_start|>assistant\n")
        with self._lock:
            self._llm.n_tokens = 0
            try:
                self._llm.eval(tokens)
                vocabulary = self._llm.n_vocab()
                logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self._llm.ctx, -1), shape=(vocabulary,))
                probabilities = np.exp(logits - logits.max())
            except Exception as exc:
                raise GenerationError(str(exc)) from exc
            finally:
                self._restore_prefix()
            probabilities /= probabilities.sum()
        return yes_share({word: float(probabilities[token]) for word, token in self._answer_tokens.items()})

    @cached_property
    def _answer_tokens(self) -> dict[str, int]:
        """The vocabulary's single tokens for « oui » and « non », by their text."""
        words = {word: self._llm.tokenize(word.encode("utf-8"), add_bos=False, special=False) for word in YES + NO}
        return {word: ids[0] for word, ids in words.items() if len(ids) == 1}

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        text = "".join(m["content"] for m in messages)
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False))

    def stream(self, prompt: Prompt) -> Tokens:
        deadline = time.monotonic() + self._timeout
        cut = False
        with self._lock:
            self._llm.n_tokens = self._prefix_len
            try:
                chunks = self._llm.create_chat_completion(
                    messages=prompt.messages,  # type: ignore[arg-type]
                    max_tokens=self._max_tokens,
                    temperature=0.0,
                    repeat_penalty=self._repeat_penalty,
                    stream=True,
                )
                for chunk in chunks:
                    if time.monotonic() > deadline:
                        raise GenerationError("délai de génération dépassé")
                    choice: Any = chunk["choices"][0]  # type: ignore[index]
                    if text := choice["delta"].get("content"):
                        yield str(text)
                    cut = cut or choice.get("finish_reason") == "length"
            except GenerationError:
                raise
            except Exception as exc:
                raise GenerationError(str(exc)) from exc
        return cut


def _chatml(messages: list[dict[str, str]]) -> str:
    """Qwen's chat template (ChatML), as llama.cpp applies it to the messages."""
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


class OpenAICompatibleGenerator:
    """Any server speaking the OpenAI chat API: vLLM, llama.cpp's server, Albert…"""

    name = "openai-compatible"

    def __init__(self, settings: Settings) -> None:
        from openai import OpenAI

        # No retries: a resident is better served by the evidence now than by the answer after backoffs
        self._client: Any = OpenAI(
            base_url=settings.generation.base_url,
            api_key=settings.generation.api_key,
            timeout=settings.generation.timeout_s,
            max_retries=0,
        )
        self._base_url = settings.generation.base_url
        self._health_timeout = settings.generation.health_timeout_s
        self._alive_after_reply = settings.generation.alive_after_reply_s
        self._model = settings.generation.model
        self._max_tokens = settings.generation.max_tokens
        # time.monotonic() of the server's last reply and of the last failed call
        self._replied_at = self._failed_at = -math.inf

    def problem(self) -> str | None:
        """Why the server cannot answer now (for /api/health), or None when it replied lately with no failure
        since, or lists its models."""
        if self._failed_at < self._replied_at > time.monotonic() - self._alive_after_reply:
            return None
        try:
            self._client.with_options(timeout=self._health_timeout).models.list()
        except Exception as exc:
            return f"serveur du modèle injoignable ({self._base_url}) : {type(exc).__name__}"
        return None

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        return sum(len(m["content"]) for m in messages) // 4

    def judge(self, prompt: Prompt) -> float | None:
        """From the first token's top log-probabilities; None when the server gives none or fails (the evidence
        is then judged without the model's verdict)."""
        try:
            response = self._client.chat.completions.create(
                model=self._model,
                messages=prompt.messages,
                max_tokens=1,
                temperature=0.0,
                logprobs=True,
                top_logprobs=10,
            )
            self._replied_at = time.monotonic()
            top = response.choices[0].logprobs.content[0].top_logprobs
        except Exception:
            return None
        probabilities: dict[str, float] = {}
        for candidate in top:
            probabilities[candidate.token] = probabilities.get(candidate.token, 0.0) + math.exp(candidate.logprob)
        return yes_share(probabilities)

    def stream(self, prompt: Prompt) -> Tokens:
        cut = False
        try:
            response = self._client.chat.completions.create(
                model=self._model,
                messages=prompt.messages,
                max_tokens=self._max_tokens,
                temperature=0.0,
                stream=True,
            )
            for event in response:
                self._replied_at = time.monotonic()
                if not event.choices:
                    continue
                if event.choices[0].delta.content:
                    yield event.choices[0].delta.content
                cut = cut or event.choices[0].finish_reason == "length"
        except Exception as exc:
            self._failed_at = time.monotonic()
            raise GenerationError(str(exc)) from exc
        return cut


class MockGenerator:
    """Deterministic and instant (`generation.backend=mock`): restates the first evidence sentence, citing it.

    For the fast tests, the browser tests and retrieval-only evaluation: the whole pipeline
    runs, verification included, without a language model.
    """

    name = "mock"

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        return sum(len(m["content"].split()) for m in messages)

    def judge(self, prompt: Prompt) -> float | None:
        """The mock has no verdict: evidence it could not phrase is judged as before (retrieval-only runs)."""
        return None

    def stream(self, prompt: Prompt) -> Tokens:
        first = prompt.evidence[0] if prompt.evidence else None
        restated = " ".join(first.sentence.context.split()).rstrip(" .") if first else ""
        answer = f"{restated} [{first.number}]." if first else f"{NOT_FOUND_PHRASE}."
        for word in answer.split(" "):
            yield word + " "
        return False


def generator_problem(generator: Generator) -> str | None:
    """Why the generator cannot answer now; only a remote server can be unreachable."""
    return generator.problem() if isinstance(generator, OpenAICompatibleGenerator) else None


def build_generator(settings: Settings, fixed_prefix: list[dict[str, str]]) -> Generator:
    """The generator named by settings; `fixed_prefix` is what starts every prompt."""
    if settings.generation.backend == "openai":
        return OpenAICompatibleGenerator(settings)
    if settings.generation.backend == "mock":
        return MockGenerator()
    return LlamaCppGenerator(settings, fixed_prefix)
