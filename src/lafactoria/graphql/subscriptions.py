"""Root subscription fields: a job's progress, replayed then live."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from lafactoria.errors import InvalidInput
from lafactoria.graphql.context import Context
from lafactoria.graphql.errors import to_graphql_error
from lafactoria.graphql.fanout import shared_event
from lafactoria.graphql.ids import decode_id
from lafactoria.graphql.types.jobs import GenerationEvent

Info = strawberry.Info[Context, None]


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every event of a job after `afterSequence` (all when 0): what already "
        "happened first, then live events; completes after the terminal event. Reconnect "
        "with the last sequence you saw to resume without gaps or duplicates."
    )
    async def generation_progress(
        self, info: Info, job_id: strawberry.ID, after_sequence: int = 0
    ) -> AsyncGenerator[GenerationEvent, None]:
        # graphql-core does not pass errors raised inside a subscription's source stream
        # through the schema's error formatting, so they are coded (and masked) here.
        try:
            raw_id = decode_id(job_id, "GenerationJob", field="jobId")
            if after_sequence < 0:
                raise InvalidInput("afterSequence must not be negative", field="afterSequence")
            principal = await info.context.require_principal()
            services = info.context.services
            stream = await services.generation.progress(
                user_id=principal.user.id, job_id=raw_id, after_sequence=after_sequence
            )
            # A subscription can outlive its credential: it ends with UNAUTHENTICATED when
            # the token expires or the key is revoked.
            guarded = services.auth.while_valid(
                principal, stream, check_every=services.settings.graphql.credential_check_seconds
            )
            async for event in guarded:
                yield shared_event(event)
        except Exception as error:
            raise to_graphql_error(error) from None
