"""The one seam every embedding provider implements, and the checks applied to what it returns."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from ..errors import ServiceError


class Embedder(ABC):
    """Texts in, one vector per text out, each of `dimensions` floats.

    `model_id` is recorded on the collection, so a later sync with another model (another vector
    space) is refused by check instead of silently mixing incomparable vectors.
    `max_inputs` caps inputs per request (Azure: 16); the writer also caps tokens per request.

    What the writer asks of an embedder is said here, so it never needs to know which one it has:
    `vector_field` names the record field the vectors arrive in (None: the embedder computes them
    from the text), and `reuses_stored_vectors` says whether an unchanged chunk may keep the vector
    stored for it (false where the record brings its own vector, which may change with the text kept).
    """

    dimensions: int
    model_id: str
    max_inputs: int = 2048
    remote: bool = False  # True: requests go over the network, so concurrency helps
    vector_field: str | None = None
    reuses_stored_vectors: bool = True

    @abstractmethod
    def _embed(self, texts: list[str]) -> list[list[float]]:
        """Provider call; may raise ConnectorError subclasses."""

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._embed(texts)
        validate_vectors(vectors, len(texts), self.dimensions, self.model_id)
        return vectors

    def check(self) -> None:
        """One tiny real call: proves credentials, endpoint and dimension before any data flows."""
        self.embed(["connection check"])


def validate_vectors(vectors: list[list[float]], expected_count: int, dimensions: int, source: str) -> None:
    """Never store a wrong vector: count, length and finiteness are checked on every response."""
    if len(vectors) != expected_count:
        raise ServiceError(f"Embedding service ({source}) returned {len(vectors)} vectors for {expected_count} inputs.")
    for vector in vectors:
        if len(vector) != dimensions:
            raise ServiceError(
                f"Embedding service ({source}) returned a {len(vector)}-dimensional vector, expected {dimensions}: "
                "check the model and its `dimensions` setting."
            )
    # sum() runs in C; a NaN or inf anywhere makes it non-finite (an overflow only sends us to the exact check)
    if not all(bool(np.isfinite(vector).all()) if isinstance(vector, np.ndarray) else
               math.isfinite(sum(vector)) or all(math.isfinite(x) for x in vector) for vector in vectors):
        raise ServiceError(f"Embedding service ({source}) returned a vector with NaN or infinite values.")
