"""Root mutation fields. Expected failures come back as ``userErrors`` in the payload;
authentication failures, malformed IDs and bugs are top-level errors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from lafactoria.content.bodies import MAX_CARDS, MAX_TARGET_MINUTES, MIN_CARDS, PodcastFormat
from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.errors import InvalidInput, LaFactoriaError
from lafactoria.generation.commands import GenerateCommand
from lafactoria.generation.service import MAX_BATCH_SIZE
from lafactoria.graphql.context import Context
from lafactoria.graphql.ids import decode_id, encode_id
from lafactoria.graphql.types.auth import ApiKey, User
from lafactoria.graphql.types.common import UserError, is_payload_error
from lafactoria.graphql.types.jobs import GenerationJob

Info = strawberry.Info[Context, None]


def _user_errors(
    error: LaFactoriaError, *, arguments: dict[str, str] | None = None
) -> list[UserError]:
    """``error`` as the payload's user errors; ``arguments`` renames the service's field names
    to the mutation's argument names where they differ (the job lookup says ``id``)."""
    if not is_payload_error(error):
        raise error
    user_error = UserError.from_error(error)
    if arguments and user_error.field in arguments:
        user_error.field = arguments[user_error.field]
    return [user_error]


@strawberry.input
class RegisterInput:
    email: str
    password: str


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.type
class AuthPayload:
    user: User | None = None
    access_token: str | None = strawberry.field(
        default=None, description="Send as 'Authorization: Bearer <accessToken>'."
    )
    expires_at: datetime | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateApiKeyInput:
    name: str
    expires_in_days: int | None = strawberry.field(
        default=None, description="Lifetime in days; the key never expires when omitted."
    )


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey | None = None
    secret: str | None = strawberry.field(
        default=None, description="The whole key. Shown only now: store it safely."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RevokeApiKeyPayload:
    api_key: ApiKey | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class GenerateContentInput:
    topic: str = strawberry.field(description="What the content is about (1-200 characters).")
    content_type: ContentType
    audience_level: AudienceLevel
    additional_requirements: str | None = strawberry.field(
        default=None, description="Extra wishes, e.g. 'focus on photosynthesis' (up to 2000)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Repeat a request safely: the same key returns the same job."
    )
    card_count: int | None = strawberry.field(
        default=None,
        description=f"FLASHCARDS only: exactly this many cards ({MIN_CARDS}-{MAX_CARDS}). "
        "Without it, the deck has 10 to 30.",
    )
    podcast_format: PodcastFormat | None = strawberry.field(
        default=None, description="PODCAST only: CONVERSATION (two hosts, the default) or BRIEF."
    )
    target_minutes: int | None = strawberry.field(
        default=None,
        description=f"PODCAST only: the length to aim for (1-{MAX_TARGET_MINUTES} minutes; "
        "default 3 for a conversation, 2 for a brief).",
    )


@strawberry.type
class GenerateContentPayload:
    job: GenerationJob | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class BulkGenerateContentInput:
    topics: list[str] = strawberry.field(description="1 to 10 topics: one job each.")
    content_type: ContentType
    audience_level: AudienceLevel
    additional_requirements: str | None = strawberry.field(
        default=None, description="Applied to every topic."
    )


@strawberry.type
class BulkGenerateContentPayload:
    batch_id: strawberry.ID | None = strawberry.field(
        default=None, description="Groups the jobs: pass it to generationJobs(batchId:)."
    )
    jobs: list[GenerationJob] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CancelGenerationPayload:
    job: GenerationJob | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteContentPayload:
    deleted_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create an account. Log in afterwards to get a token.")
    async def register(self, info: Info, input: RegisterInput) -> AuthPayload:
        try:
            user = await info.context.services.auth.register(
                email=input.email, password=input.password
            )
        except LaFactoriaError as error:
            return AuthPayload(user_errors=_user_errors(error))
        return AuthPayload(user=User.from_model(user))

    @strawberry.mutation(description="Exchange an email and password for an access token.")
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:
        try:
            result = await info.context.services.auth.login(
                email=input.email,
                password=input.password,
                client_address=info.context.client_address,
            )
        except LaFactoriaError as error:
            return AuthPayload(user_errors=_user_errors(error))
        return AuthPayload(
            user=User.from_model(result.user),
            access_token=result.access_token.token,
            expires_at=result.access_token.expires_at,
        )

    @strawberry.mutation(description="Create an API key; its secret is returned only once.")
    async def create_api_key(
        self,
        info: Info,
        input: CreateApiKeyInput,
    ) -> CreateApiKeyPayload:
        user_id = await info.context.user_id()
        try:
            created = await info.context.services.auth.create_api_key(
                user_id=user_id, name=input.name, expires_in_days=input.expires_in_days
            )
        except LaFactoriaError as error:
            return CreateApiKeyPayload(user_errors=_user_errors(error))
        return CreateApiKeyPayload(
            api_key=ApiKey.from_model(created.api_key), secret=created.secret
        )

    @strawberry.mutation(description="Revoke an API key at once.")
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> RevokeApiKeyPayload:
        key_id = decode_id(id, "ApiKey")
        user_id = await info.context.user_id()
        try:
            key = await info.context.services.auth.revoke_api_key(user_id=user_id, key_id=key_id)
        except LaFactoriaError as error:
            return RevokeApiKeyPayload(user_errors=_user_errors(error))
        return RevokeApiKeyPayload(api_key=ApiKey.from_model(key))

    @strawberry.mutation(
        description="Start generating content. Returns the queued job at once; follow it "
        "with the generationProgress subscription."
    )
    async def generate_content(
        self,
        info: Info,
        input: GenerateContentInput,
    ) -> GenerateContentPayload:
        user_id = await info.context.user_id()
        try:
            command = GenerateCommand.create(
                topic=input.topic,
                content_type=input.content_type,
                audience_level=input.audience_level,
                additional_requirements=input.additional_requirements,
                idempotency_key=input.idempotency_key,
                card_count=input.card_count,
                podcast_format=input.podcast_format,
                target_minutes=input.target_minutes,
            )
            submitted = await info.context.services.generation.submit(
                user_id=user_id, command=command
            )
        except LaFactoriaError as error:
            return GenerateContentPayload(user_errors=_user_errors(error))
        return GenerateContentPayload(job=GenerationJob.from_model(submitted.job))

    @strawberry.mutation(
        description="Start one job per topic, all with the same type and level. All are "
        "accepted or none (LIMIT_EXCEEDED when the queue cannot take them all)."
    )
    async def bulk_generate_content(
        self,
        info: Info,
        input: BulkGenerateContentInput,
    ) -> BulkGenerateContentPayload:
        user_id = await info.context.user_id()
        try:
            if not 1 <= len(input.topics) <= MAX_BATCH_SIZE:
                raise InvalidInput(f"give 1 to {MAX_BATCH_SIZE} topics", field="topics")
            commands = [
                GenerateCommand.create(
                    topic=topic,
                    content_type=input.content_type,
                    audience_level=input.audience_level,
                    additional_requirements=input.additional_requirements,
                    field=f"topics.{index}",
                )
                for index, topic in enumerate(input.topics)
            ]
            batch_id, jobs = await info.context.services.generation.submit_batch(
                user_id=user_id, commands=commands
            )
        except LaFactoriaError as error:
            return BulkGenerateContentPayload(user_errors=_user_errors(error))
        return BulkGenerateContentPayload(
            batch_id=strawberry.ID(encode_id("GenerationBatch", batch_id)),
            jobs=[GenerationJob.from_model(job) for job in jobs],
        )

    @strawberry.mutation(description="Cancel a queued or running job.")
    async def cancel_generation(
        self,
        info: Info,
        job_id: strawberry.ID,
    ) -> CancelGenerationPayload:
        raw_id = decode_id(job_id, "GenerationJob", field="jobId")
        user_id = await info.context.user_id()
        try:
            job = await info.context.services.generation.cancel(user_id=user_id, job_id=raw_id)
        except LaFactoriaError as error:
            return CancelGenerationPayload(
                user_errors=_user_errors(error, arguments={"id": "jobId"})
            )
        return CancelGenerationPayload(job=GenerationJob.from_model(job))

    @strawberry.mutation(description="Delete one of the viewer's content items.")
    async def delete_content(self, info: Info, id: strawberry.ID) -> DeleteContentPayload:
        content_id = decode_id(id, "Content")
        user_id = await info.context.user_id()
        try:
            await info.context.services.content.delete(user_id=user_id, content_id=content_id)
        except LaFactoriaError as error:
            return DeleteContentPayload(user_errors=_user_errors(error))
        return DeleteContentPayload(deleted_id=id)

    @strawberry.mutation(
        description="Start a job that revises one of the viewer's items as the instructions ask "
        "(e.g. 'simpler words', 'add an example about trains'). The revision is stored as a "
        "new item whose revisionOf is the original; the original is kept unchanged alongside "
        "it, also when the job fails. Delete whichever you no longer want."
    )
    async def regenerate_content(
        self,
        info: Info,
        id: strawberry.ID,
        instructions: Annotated[
            str,
            strawberry.argument(
                description="What to change, in the teacher's words (1-2000 characters)."
            ),
        ],
    ) -> GenerateContentPayload:
        content_id = decode_id(id, "Content")
        user_id = await info.context.user_id()
        try:
            job = await info.context.services.generation.submit_revision(
                user_id=user_id, content_id=content_id, instructions=instructions
            )
        except LaFactoriaError as error:
            return GenerateContentPayload(user_errors=_user_errors(error))
        return GenerateContentPayload(job=GenerationJob.from_model(job))
