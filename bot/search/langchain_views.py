"""LangChain's interfaces over tabot's search, for whoever wants LangChain's side of it.

- `MiniLMEmbeddings`: the shared MiniLM encoder as a LangChain `Embeddings` (what
  `bot.search.index.KnowledgeIndex.vectorstore`, a langchain_chroma `Chroma`, embeds with);
- `EntryRetriever`: the hybrid retriever (`bot.search.retrieve.HybridRetriever`) as a LangChain
  `BaseRetriever`: `invoke(question)` gives one Document per TA answer, best first.

They live here, not beside the encoder and the retriever, because importing LangChain's
`Embeddings` and `BaseRetriever` pulls in its runnables, tracers and langsmith — about a third of
a second, a quarter of what `tabot ask` may take — and the answer path calls the encoder and the
retriever directly. Nothing on the answer path imports this module (tests/test_ask_imports.py).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from bot.search.embeddings import MiniLM, shared_model


class MiniLMEmbeddings(Embeddings):
    """LangChain view of the shared encoder."""

    def __init__(self, model: MiniLM | None = None) -> None:
        self.model = model or shared_model()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.encode(list(texts))

    def embed_query(self, text: str) -> list[float]:
        return self.model.encode([text])[0]


class EntryRetriever(BaseRetriever):
    """A LangChain retriever returning one Document per TA answer, best first."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    # The `bot.search.retrieve.HybridRetriever` to ask (typed loosely: the index imports this module
    # for its `Chroma` view, and the retriever imports the index).
    engine: Any

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        documents = []
        for hit in self.engine.search(query):
            entry = self.engine.entries[hit.entry_id]
            documents.append(Document(
                page_content=entry.answer, id=entry.id,
                metadata={"entry_id": entry.id, "question": entry.question, "confidence": hit.confidence,
                          "dense": hit.dense, "dense_post": hit.dense_post, "lexical": hit.lexical,
                          "score": hit.score},
            ))
        return documents
