"""The classifier used when no Gemini key is set (and by `make run`): keyword scoring, no network, no cost."""
from __future__ import annotations

import dagster as dg
from pydantic import Field

from feed_pipeline.core.enrichment import Classifier, Taxonomy
from feed_pipeline.core.keyword_classifier import KeywordClassifier


class OfflineClassifierResource(dg.ConfigurableResource):
    """Hands out a deterministic keyword classifier with the same interface as GeminiResource.classifier()."""

    batch_size: int = Field(default=200, ge=1, description="Jobs per yielded batch (how often results are saved).")

    def classifier(self, taxonomy: Taxonomy) -> Classifier:
        """A fresh classifier with fresh (all-zero) usage for one stage run."""
        return KeywordClassifier(taxonomy, batch_size=self.batch_size)
