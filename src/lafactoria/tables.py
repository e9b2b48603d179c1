"""Every table of the schema in one metadata, for start-up and migrations."""

from __future__ import annotations

from sqlmodel import SQLModel

from lafactoria.auth.models import ApiKey, User
from lafactoria.content.models import Content
from lafactoria.generation.models import GenerationJob

metadata = SQLModel.metadata
TABLES = (User, ApiKey, Content, GenerationJob)
