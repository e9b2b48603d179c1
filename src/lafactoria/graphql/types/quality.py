"""The ``QualityReport`` on ``Content``: readability against the audience, and what to check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry

from lafactoria.content import quality

# Registers the domain enums with Strawberry (in place), so fields and inputs can use them.
strawberry.enum(
    quality.AudienceFit,
    name="AudienceFit",
    description="How the content's reading level compares with its audience's band. "
    "NOT_JUDGED: under 100 words of prose, too little to measure.",
)
strawberry.enum(
    quality.IssueSeverity,
    name="IssueSeverity",
    description="WARNING: look before using the item. INFO: worth knowing.",
)


@strawberry.type(description="A range of school grades; high is null for no upper limit.")
class GradeBand:
    low: float
    high: float | None


@strawberry.type(description="Something a teacher should know about the item.")
class QualityIssue:
    code: str = strawberry.field(
        description="TOO_HARD, TOO_EASY, TOO_SHORT_TO_JUDGE, REGENERATED, SHORT_SECTION, "
        "NO_REVIEW_QUESTIONS, DUPLICATE_BACKS, ANSWER_POSITION_PATTERN, "
        "LONGEST_CHOICE_IS_ANSWER or DURATION_OFF_TARGET."
    )
    severity: quality.IssueSeverity
    message: str
    field: str | None = strawberry.field(
        description="Where in the body, e.g. 'sections[2]'; null for the whole item."
    )


@strawberry.type(
    description="Automatic checks run when the item was generated: readability of its prose "
    "against the audience's grade band, and structural checks for its type."
)
class QualityReport:
    reading_grade: float | None = strawberry.field(
        description="The grade level that is judged: the mean of the Flesch-Kincaid, ARI and "
        "Coleman-Liau grades. Null when the item has no prose."
    )
    reading_ease: float | None = strawberry.field(
        description="Flesch reading ease: about 90-100 very easy, 60-70 plain, under 30 hard."
    )
    flesch_kincaid_grade: float | None
    automated_readability_index: float | None
    coleman_liau_index: float | None
    word_count: int = strawberry.field(description="Words of prose measured.")
    sentence_count: int
    target_grades: GradeBand = strawberry.field(description="The audience's grade band.")
    audience_fit: quality.AudienceFit
    needs_review: bool = strawberry.field(description="True when any issue is a WARNING.")
    regenerated: bool = strawberry.field(
        description="The first answer missed the band and was asked for once more with "
        "feedback (see the REGENERATED issue)."
    )
    estimated_minutes: float | None = strawberry.field(
        description="Podcasts: spoken length at about 150 words a minute."
    )
    issues: list[QualityIssue]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QualityReport:
        report = quality.QualityReport.from_json(data)
        measured = report.readability
        return cls(
            reading_grade=measured.reading_grade if measured else None,
            reading_ease=measured.reading_ease if measured else None,
            flesch_kincaid_grade=measured.flesch_kincaid_grade if measured else None,
            automated_readability_index=measured.automated_readability_index if measured else None,
            coleman_liau_index=measured.coleman_liau_index if measured else None,
            word_count=measured.words if measured else 0,
            sentence_count=measured.sentences if measured else 0,
            target_grades=GradeBand(low=report.band.low, high=report.band.high),
            audience_fit=report.audience_fit,
            needs_review=report.needs_review,
            regenerated=report.regenerated,
            estimated_minutes=report.estimated_minutes,
            issues=[
                QualityIssue(
                    code=issue.code,
                    severity=issue.severity,
                    message=issue.message,
                    field=issue.field,
                )
                for issue in report.issues
            ],
        )
