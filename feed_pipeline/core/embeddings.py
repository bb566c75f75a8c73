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
MAX_TOKENS = 256  # words of a text that count: a posting's opening carries its meaning, more only blurs it
WORD_CACHE_SIZE = 30_000  # distinct words kept (about 1 KB each, so at most ~32 MB); a full cache starts over


class EmbeddingModelMissing(RuntimeError):
    """The embedding weights are not installed; the message says which package to install."""


class StaticEmbedder:
    """Mean-pooled, L2-normalized token embeddings. `embed` is pure: the same texts give the same vectors.

    Texts are split on whitespace and each distinct word is tokenized once per process (WORD_CACHE_SIZE words
    kept): job postings repeat the same few thousand words, so the tokenizer runs on a small fraction of the
    text and a text's vector is the sum of its words' token vectors over its token count.
    """

    name = "wordllama-l2-supercat-256"

    def __init__(self, vectors: np.ndarray, tokenizer):
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._tokenizer = tokenizer
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.dim = self._vectors.shape[1]
        self._words: dict[str, tuple[np.ndarray, int]] = {}

    def embed(self, texts: list[str], max_tokens: int = MAX_TOKENS) -> np.ndarray:
        """One unit vector per text (all zeros for a text without tokens)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        split = [t.split()[:max_tokens] for t in texts]
        cache = self._learn({w for words in split for w in words})
        for n, words in enumerate(split):
            if not words:
                continue
            entries = [cache[w] for w in words]
            count = sum(c for _, c in entries)
            if count:
                total = np.sum([v for v, _ in entries], axis=0)
                norm = float(np.linalg.norm(total))
                if norm > 0:
                    out[n] = total / norm
        return out

    def _learn(self, words: set[str]) -> dict[str, tuple[np.ndarray, int]]:
        """A word cache holding every word of `words` (a fresh one when the shared cache is full)."""
        cache = self._words
        missing = [w for w in words if w not in cache]
        if not missing:
            return cache
        if len(cache) + len(missing) > WORD_CACHE_SIZE:
            cache = self._words = {}
            missing = list(words)
        for word, encoding in zip(missing, self._tokenizer.encode_batch(missing, add_special_tokens=False),
                                  strict=True):
            ids = np.clip(np.asarray(encoding.ids, dtype=np.int64), 0, self._vectors.shape[0] - 1)
            cache[word] = (self._vectors[ids].sum(axis=0), len(ids))
        return cache


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
