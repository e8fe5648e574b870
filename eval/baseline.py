"""The same-run baseline: the textbook RAG, with the product's own index and local model.

A LangChain retriever reads the product's index through its dense search (the product's embedder; dense
only, as the textbook does), the top passages go into a plain French RAG prompt, and the same generator
writes the answer under the same token limit. No BM25, no evidence ranking, no answerability decision, no
verification: what the product adds is measured against it. Its results are ItemResults filled like the
runner's, so that the same metrics judge both.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, SkipValidation

from bot.answer.generation import GenerationError, Generator, build_generator
from bot.answer.prompts import Prompt
from core.settings import Settings
from core.text import fold, split_sentences
from core.types import Chunk
from eval.metrics import ItemResult
from ingest.embeddings import Embedder, get_embedder
from ingest.store import IndexReader

# Passages placed in the prompt: the k of LangChain's vector-store retriever by default (`as_retriever()`),
# the textbook's usual number.
TOP_K = 4
INSTRUCTIONS = (
    "Réponds à la question en t'appuyant uniquement sur les extraits fournis. "
    "Si les extraits ne contiennent pas la réponse, réponds exactement : « Je ne sais pas. » "
    "Cite les extraits utilisés par leur numéro entre crochets, par exemple [1]."
)
# The fixed start of every prompt (read once by llama.cpp, like the product's own prefix)
PREFIX = [{"role": "system", "content": INSTRUCTIONS}]
NOT_KNOWN = "Je ne sais pas"
ANSWERED = "réponse du modèle, sans vérification"
REFUSED = "le modèle répond qu'il ne sait pas"
_MARKERS = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_MARKERS_AFTER_END = re.compile(r"([.!?…])((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+)")


class IndexRetriever(BaseRetriever):
    """LangChain's retriever over the product's index: the `k` passages closest to the query, dense search only."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    reader: IndexReader
    embedder: SkipValidation[Embedder]  # a Protocol: nothing for pydantic to check
    k: int = TOP_K

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        vector = self.embedder.embed_query(query)
        return [passage_document(chunk, score) for chunk, score in self.reader.dense(vector, self.k)]


def passage_document(chunk: Chunk, score: float) -> Document:
    """A passage as LangChain carries it: its text, and where it comes from."""
    metadata = {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "section": chunk.section,
        "page": chunk.page,
        "chunk_id": chunk.chunk_id,
        "score": score,
    }
    return Document(page_content=chunk.text, metadata=metadata)


def earlier_turns(item: dict[str, Any]) -> list[dict[str, str]]:
    """A follow-up item's earlier user messages (its `history`), as chat turns before the question."""
    return [{"role": "user", "content": text} for text in item.get("history", [])]


def search_query(question: str, history: list[dict[str, str]]) -> str:
    """What is searched: the question, after the previous user message when there is one (a follow-up such as
    « et en 2025 ? » names nothing by itself)."""
    previous = [turn["content"] for turn in history if turn["role"] == "user"]
    return f"{previous[-1]} {question}" if previous else question


def baseline_prompt(question: str, documents: list[Document], history: list[dict[str, str]]) -> Prompt:
    """The instructions, the earlier turns, then the numbered extracts and the question."""
    excerpts = "\n\n".join(f"[{n}] {_heading(d)}\n{d.page_content}" for n, d in enumerate(documents, start=1))
    asked = f"Extraits :\n\n{excerpts}\n\nQuestion : {question}"
    return Prompt([*PREFIX, *history, {"role": "user", "content": asked}], question, [])


def _heading(document: Document) -> str:
    metadata = document.metadata
    return " — ".join(part for part in (metadata["title"], metadata["section"]) if part)


def refuses(answer: str) -> bool:
    """Whether the answer says it does not know (« Je ne sais pas », in any case or spacing)."""
    return fold(NOT_KNOWN) in " ".join(fold(answer).split())


def answer_sentences(answer: str) -> list[dict[str, Any]]:
    """Each sentence of the answer without its [n] markers, with the numbers it cites, as the runner's
    `answer_sentences` are; markers after a full stop (« … le mardi. [1] ») cite for the sentence they follow."""
    rows = []
    for sentence in split_sentences(_MARKERS_AFTER_END.sub(r"\2\1", answer)):
        citations = [int(n) for group in _MARKERS.findall(sentence) for n in re.findall(r"\d+", group)]
        text = " ".join(_MARKERS.sub("", sentence).split())
        if any(c.isalnum() for c in text):
            rows.append({"text": text, "citations": citations})
    return rows


def source(number: int, document: Document) -> dict[str, Any]:
    """A passage given to the model, as the public response's `sources` are."""
    metadata = document.metadata
    return {
        "id": number,
        "document": metadata["doc_id"],
        "title": metadata["title"],
        "page": metadata["page"],
        "section": metadata["section"],
        "excerpt": document.page_content,
        "score": round(metadata["score"], 4),
    }


def item_result(item: dict[str, Any], answer: str, documents: list[Document], timings: dict[str, float]) -> ItemResult:
    """The baseline's answer judged like the product's: every passage it was given counts as cited."""
    refused = refuses(answer)
    return ItemResult(
        item=item,
        answer=answer,
        refused=refused,
        retrieved_docs=[d.metadata["doc_id"] for d in documents],
        retrieved_texts=[d.page_content for d in documents],
        cited=[source(n, d) for n, d in enumerate(documents, start=1)],
        sentences=[] if refused else answer_sentences(answer),
        outcome="refuse" if refused else "answer",
        reason=REFUSED if refused else ANSWERED,
        draft=answer,
        timings=timings,
        best_score=max((d.metadata["score"] for d in documents), default=0.0),
    )


@dataclass
class BaselineAnswerer:
    """Retrieve, put the passages in the prompt, let the model write: one question's ItemResult."""

    retriever: IndexRetriever
    generator: Generator

    def answer(self, item: dict[str, Any]) -> ItemResult:
        started = time.perf_counter()
        history = earlier_turns(item)
        documents = self.retriever.invoke(search_query(item["question"], history))
        timings = {"retrieval_s": time.perf_counter() - started}
        prompt = baseline_prompt(item["question"], documents, history)
        text, error = "", ""
        try:
            for token in self.generator.stream(prompt):
                timings.setdefault("first_token_s", time.perf_counter() - started)
                text += token
        except GenerationError as exc:
            error = str(exc)
        timings["total_s"] = time.perf_counter() - started
        result = item_result(item, text.strip(), documents, timings)
        result.prompt_tokens = self.generator.count_tokens(prompt.messages[len(PREFIX) :])
        result.error = error
        return result


def baseline_models(settings: Settings) -> tuple[Embedder, Generator]:
    """The product's embedder and the same local model (its settings, its token limit), for every corpus."""
    return get_embedder(settings), build_generator(settings, PREFIX)


def run_baseline(
    items: list[dict[str, Any]],
    settings: Settings,
    models: tuple[Embedder, Generator],
    progress: Callable[[], None] | None = None,
) -> list[ItemResult]:
    """The items through the baseline over the index of `settings` (one corpus's)."""
    embedder, generator = models
    answerer = BaselineAnswerer(IndexRetriever(reader=IndexReader(settings), embedder=embedder), generator)
    results = []
    for item in items:
        results.append(answerer.answer(item))
        if progress:
            progress()
    return results
