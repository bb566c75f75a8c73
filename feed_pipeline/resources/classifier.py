"""The classifier resource family: the assets ask any of them for a Classifier the same way."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from feed_pipeline.core.enrichment import Classifier, Taxonomy


class ClassifierResource(dg.ConfigurableResource, ABC):
    """Gemini (resources/gemini.py) or the offline classifiers (resources/offline_classifier.py)."""

    @abstractmethod
    def classifier(self, taxonomy: Taxonomy) -> Classifier:
        """A fresh classifier with fresh (all-zero) usage for one stage run."""

    @contextmanager
    def open_classifier(self, taxonomy: Taxonomy) -> Iterator[Classifier]:
        """The classifier for one stage run, closed afterwards (Gemini's owns a client and a loop)."""
        clf = self.classifier(taxonomy)
        try:
            yield clf
        finally:
            close = getattr(clf, "close", None)
            if close is not None:
                close()
