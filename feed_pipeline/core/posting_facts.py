"""The stage 1 facts an offline classifier reads off a posting without judging it: standardized title and summary,
the taxonomy's skills and technologies named as whole words, seniority, remote policy, application deadline.

Both offline classifiers (keyword and semantic) differ only in the industry they pick and how sure they are; the
rest of their stage 1 answer is this one rule.
"""
from __future__ import annotations

from feed_pipeline.core.enrichment import IndustryInput, IndustryResult, Taxonomy
from feed_pipeline.core.keyword_match import PhraseMatcher, tokenize, vocabulary_hits
from feed_pipeline.core.text_features import (
    clean_title,
    deadline_from_text,
    plain_text,
    remote_policy_from_text,
    seniority_from_title,
    short_description,
)

MAX_SKILLS = 15


class PostingFacts:
    """Reads the facts for one taxonomy (its skills and technologies vocabularies, matched once each)."""

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        self._skills = PhraseMatcher(taxonomy.skills, fuzzy=False, fold_plurals=False)
        self._technologies = PhraseMatcher(taxonomy.technologies, fuzzy=False, fold_plurals=False)

    def industry_result(self, job: IndustryInput, industry: str, confidence: float) -> IndustryResult:
        """The stage 1 answer for `job`, with the classifier's `industry` and `confidence`."""
        title = plain_text(job.title)
        body = " ".join([plain_text(job.description), " ".join(job.tags)])
        words = tokenize(f"{title} ; {body}", fold_plurals=False)
        company = tokenize(job.company, fold_plurals=False) if job.company else []
        return IndustryResult(
            job_key=job.job_key,
            industry=industry,
            confidence=confidence,
            ai_title=clean_title(job.title) or title,
            ai_description=short_description(job.description),
            skills=vocabulary_hits(self._skills, self.taxonomy.skills, words, company)[:MAX_SKILLS],
            tech_stack=vocabulary_hits(self._technologies, self.taxonomy.technologies, words, company),
            seniority=seniority_from_title(title),
            remote_policy=remote_policy_from_text(title, body, *job.locations),
            application_deadline=deadline_from_text(job.description, job.date_order),
        )
