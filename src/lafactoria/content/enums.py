"""The vocabulary shared by every layer: what can be generated, and for whom."""

from __future__ import annotations

from enum import StrEnum


class ContentType(StrEnum):
    STUDY_GUIDE = "study_guide"
    FLASHCARDS = "flashcards"
    QUIZ = "quiz"
    PODCAST = "podcast"


class AudienceLevel(StrEnum):
    ELEMENTARY = "elementary"
    MIDDLE_SCHOOL = "middle_school"
    HIGH_SCHOOL = "high_school"
    COLLEGE = "college"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")
