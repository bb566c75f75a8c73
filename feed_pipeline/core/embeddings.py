"""Static word embeddings: a text's vector is the mean of its tokens' vectors (no network, numpy only).

The weights are the WordLlama "l2_supercat" token embeddings (256 dimensions, 32k tokens) that ship inside the
`wordllama` wheel with their tokenizer; `load_wordllama` reads them from the installed package and never
downloads anything (WordLlama.load() would try Hugging Face for a file it already has). Embedding a job title
takes microseconds, so the offline classifier can compare every posting with every label's words.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

WORDLLAMA_WEIGHTS = "weights/l2_supercat_256.safetensors"
WORDLLAMA_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
MAX_TOKENS = 256  # a posting's opening carries its meaning; the mean over more tokens only blurs it


class EmbeddingModelMissing(RuntimeError):
    """The embedding weights are not installed; the message says which package to install."""


class StaticEmbedder:
    """Mean-pooled, L2-normalized token embeddings. `embed` is pure: the same texts give the same vectors."""

    name = "wordllama-l2-supercat-256"

    def __init__(self, vectors: np.ndarray, tokenizer):
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._tokenizer = tokenizer
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.dim = self._vectors.shape[1]

    def embed(self, texts: list[str], max_tokens: int = MAX_TOKENS) -> np.ndarray:
        """One unit vector per text (all zeros for a text without tokens)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        ids = [np.asarray(e.ids[:max_tokens], dtype=np.int64) for e in encodings]
        lengths = np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(ids))
        nonempty = lengths > 0
        if not nonempty.any():
            return out
        flat = np.concatenate(ids)
        np.clip(flat, 0, self._vectors.shape[0] - 1, out=flat)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[nonempty]
        sums = np.add.reduceat(self._vectors[flat], starts, axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        out[nonempty] = sums / np.maximum(norms, 1e-9)
        return out


@lru_cache(maxsize=1)
def load_wordllama() -> StaticEmbedder:
    """The embedder from the installed `wordllama` package's own files (read once per process)."""
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelMissing(
            "the semantic offline classifier needs the `wordllama` package: pip install wordllama")
    root = Path(next(iter(spec.submodule_search_locations)))
    weights, tokenizer_file = root / WORDLLAMA_WEIGHTS, root / WORDLLAMA_TOKENIZER
    if not weights.exists() or not tokenizer_file.exists():
        raise EmbeddingModelMissing(f"wordllama at {root} lacks {WORDLLAMA_WEIGHTS} or {WORDLLAMA_TOKENIZER}")
    from safetensors import safe_open
    from tokenizers import Tokenizer

    with safe_open(str(weights), framework="np") as f:
        vectors = f.get_tensor("embedding.weight")
    return StaticEmbedder(vectors, Tokenizer.from_file(str(tokenizer_file)))
