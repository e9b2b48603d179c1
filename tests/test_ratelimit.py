"""Rate limits: what counts, what does not, how long to wait, and counters shared in Redis."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lafactoria.errors import Unavailable
from lafactoria.ratelimit import (
    LimitsCounters,
    Quota,
    RateLimited,
    RateLimits,
    _sliding_wait,
    open_rate_limits,
)
from lafactoria.settings import LimitSettings
from tests.support.graphql import GENERATE, GraphQLClient, register_user
from tests.support.redis import isolated_prefix, redis_test_url, throwaway_redis
from tests.support.server import make_settings, run_server

QUIZ = {"contentType": "QUIZ", "audienceLevel": "COLLEGE"}


@pytest.fixture
async def limits() -> AsyncIterator[RateLimits]:
    rate_limits = open_rate_limits(
        LimitSettings(
            login_attempts_per_account=2,
            login_attempts_per_client=3,
            generations_per_minute=3,
            generations_per_day=5,
            query_cost_budget=100,
            query_cost_window_seconds=10,
        )
    )
    yield rate_limits
    await rate_limits.aclose()


async def fail_login(limits: RateLimits, account: str, client: str | None = "192.0.2.1") -> None:
    async with limits.login(account=account, client=client) as attempt:
        attempt.fail()


async def test_failed_logins_count_per_account_and_successes_do_not(limits: RateLimits) -> None:
    for _ in range(5):
        async with limits.login(account="ada@example.org", client="192.0.2.1"):
            pass  # a successful login
    await fail_login(limits, "ada@example.org")
    await fail_login(limits, "ada@example.org")

    with pytest.raises(RateLimited) as refused:
        async with limits.login(account="ada@example.org", client="192.0.2.9"):
            pass

    assert refused.value.code == "RATE_LIMITED"
    assert refused.value.message.startswith("too many failed logins: at most 2 per 15 minutes")
    assert 890 <= refused.value.retry_after <= 900


async def test_failed_logins_count_per_client_across_accounts(limits: RateLimits) -> None:
    for n in range(3):
        await fail_login(limits, f"user{n}@example.org")

    with pytest.raises(RateLimited):
        await fail_login(limits, "fresh@example.org")
    # Another address, and no address at all (the CLI), are not affected.
    await fail_login(limits, "fresh@example.org", client="192.0.2.2")
    await fail_login(limits, "other@example.org", client=None)


async def test_an_exception_in_the_block_still_counts_a_failure(limits: RateLimits) -> None:
    async def check_password() -> None:
        async with limits.login(account="bob@example.org", client=None) as attempt:
            attempt.fail()
            raise ValueError("wrong password")

    for _ in range(2):
        with pytest.raises(ValueError, match="wrong password"):
            await check_password()

    with pytest.raises(RateLimited):
        await fail_login(limits, "bob@example.org", client=None)


async def test_concurrent_guesses_cannot_overshoot_the_account_limit(limits: RateLimits) -> None:
    async def guess() -> bool:
        try:
            async with limits.login(account="eve@example.org", client=None) as attempt:
                await asyncio.sleep(0.01)  # the password check
                attempt.fail()
        except RateLimited:
            return False
        return True

    outcomes = await asyncio.gather(*(guess() for _ in range(10)))

    assert outcomes.count(True) == 2


async def test_generation_counts_only_what_was_used(limits: RateLimits) -> None:
    async with limits.generations(user_id="u1", count=3) as allowance:
        allowance.use(1)  # an idempotent repeat of two of them made nothing new
    async with limits.generations(user_id="u1", count=2) as allowance:
        allowance.use(2)

    with pytest.raises(RateLimited) as refused:
        async with limits.generations(user_id="u1", count=1):
            pass

    assert refused.value.message.startswith("too many generation requests: at most 3 per minute")
    assert 1 <= refused.value.retry_after <= 60


async def test_more_jobs_than_a_whole_window_are_refused_outright(limits: RateLimits) -> None:
    with pytest.raises(RateLimited) as refused:
        async with limits.generations(user_id="u2", count=4):
            pass

    assert refused.value.message == "too many generation requests: at most 3 per minute"
    assert refused.value.retry_after == 60


async def test_the_daily_quota_outlasts_the_minute() -> None:
    settings = LimitSettings(generations_per_minute=10, generations_per_day=2)
    daily = RateLimits(LimitsCounters("memory://"), settings)
    async with daily.generations(user_id="u3", count=2) as allowance:
        allowance.use(2)

    with pytest.raises(RateLimited) as refused:
        async with daily.generations(user_id="u3", count=1):
            pass

    assert refused.value.message.startswith("daily generation quota reached: at most 2 per day")
    # The sliding daily window: at least until its count has half faded.
    assert 43_200 <= refused.value.retry_after <= 2 * 86_400
    await daily.aclose()


async def test_the_cost_budget_is_spent_and_reported(limits: RateLimits) -> None:
    spent = await limits.spend(user_id="u4", cost=30)
    spent_again = await limits.spend(user_id="u4", cost=60)

    with pytest.raises(RateLimited) as refused:
        await limits.spend(user_id="u4", cost=20)

    assert (spent.maximum, spent.available, spent.restore_rate) == (100, 70, 10.0)
    assert spent_again.available == 10
    assert 1 <= refused.value.retry_after <= 10
    assert (await limits.budget(user_id="u4")).available == 10
    assert (await limits.budget(user_id="someone-else")).available == 100


def test_sliding_wait_follows_the_fading_previous_window() -> None:
    quota = Quota("q", amount=100, seconds=60, smooth=True)

    # Room now.
    assert _sliding_wait(quota, 10, 50, 30.0, 20, 90.0) == 0.0
    # 80 carried over (fading over the 60 s left in this window) plus 20 now: 10 more fit
    # once the carried share is down to 70, after 60 - 70 * 60 / 80 = 7.5 s.
    assert _sliding_wait(quota, 10, 80, 60.0, 20, 120.0) == pytest.approx(7.5)
    # The current window alone is too full: wait for it to end, then for it to fade.
    assert _sliding_wait(quota, 50, 0, 0.0, 90, 75.0) == pytest.approx(15.0 + 60 * (1 - 50 / 90))
    # More than the whole budget never fits.
    assert math.isinf(_sliding_wait(quota, 101, 0, 0.0, 0, 60.0))


@pytest.mark.parametrize("uri", ["memory://", "async+memory://"])
async def test_storage_is_chosen_by_uri(uri: str) -> None:
    counters = LimitsCounters(uri)
    quota = Quota("t", amount=1, seconds=60)

    assert await counters.hit(quota, "k")
    assert not await counters.hit(quota, "k")
    assert await counters.remaining(quota, "k") == 0
    await counters.aclose()


@pytest.mark.redis
async def test_redis_counters_are_shared_between_processes() -> None:
    async with isolated_prefix() as prefix:
        first = LimitsCounters(redis_test_url(), key_prefix=prefix)
        second = LimitsCounters(redis_test_url(), key_prefix=prefix)
        exact = Quota("exact", amount=2, seconds=60)
        budget = Quota("budget", amount=100, seconds=60, smooth=True)
        try:
            hits = [await first.hit(exact, "k"), await second.hit(exact, "k")]
            over = await first.hit(exact, "k")
            spent = [await first.hit(budget, "k", 70), await second.hit(budget, "k", 40)]
            left = await second.remaining(budget, "k")
            wait = await first.seconds_until(budget, "k", 40)
        finally:
            await first.aclose()
            await second.aclose()

    assert (hits, over) == ([True, True], False)
    assert spent == [True, False]
    assert left == 30
    # 70 spent in this window: it must end, then fade until 40 fit (as in memory).
    assert wait == pytest.approx(60 + 60 * (1 - 60 / 70), abs=1)


@pytest.mark.redis
async def test_an_unreachable_redis_is_unavailable_not_unlimited(tmp_path: Path) -> None:
    with throwaway_redis(tmp_path) as server:
        counters = LimitsCounters(server.url)
        quota = Quota("down", amount=5, seconds=60)
        try:
            assert await counters.hit(quota, "k")
            server.kill()
            with pytest.raises(Unavailable):
                await counters.hit(quota, "k")
            with pytest.raises(Unavailable):
                await counters.remaining(quota, "k")
            server.start()
            assert await counters.remaining(quota, "k") == 5  # a fresh server, counting again
        finally:
            await counters.aclose()


@pytest.mark.redis
async def test_a_user_over_the_limit_on_one_server_is_over_it_on_every_server(
    tmp_path: Path,
) -> None:
    async with isolated_prefix() as prefix:
        settings = make_settings(
            tmp_path,
            redis_url=redis_test_url(),
            redis_prefix=prefix,
            limits={"generations_per_minute": 2},
        )
        with run_server(settings) as first, run_server(settings) as second:
            on_first = await register_user(first)
            on_second = GraphQLClient(second, on_first.credential)
            accepted = [
                await on_first.execute(GENERATE, {"input": {"topic": topic, **QUIZ}})
                for topic in ("Tides", "Moons")
            ]
            refused = await on_second.execute(GENERATE, {"input": {"topic": "Rings", **QUIZ}})

    assert [result.errors for result in accepted] == [None, None]
    assert refused.codes == ["RATE_LIMITED"]
    assert refused.errors is not None
    assert refused.errors[0]["message"].startswith(
        "too many generation requests: at most 2 per minute"
    )


@pytest.mark.redis
async def test_queries_are_refused_not_let_through_unlimited_while_the_budget_is_unreachable(
    tmp_path: Path,
) -> None:
    with throwaway_redis(tmp_path) as redis:
        settings = make_settings(tmp_path, redis_url=redis.url, limits={"query_cost_budget": 5000})
        with run_server(settings) as server:
            client = await register_user(server)
            redis.kill()
            during = await client.execute("{ viewer { id } }")
            redis.start()
            for _ in range(50):  # the pool's dead connections fail once each, then reconnect
                after = await client.execute("{ viewer { id } }")
                if not after.errors:
                    break

    assert during.codes == ["SERVICE_UNAVAILABLE"]
    assert during.data is None
    assert after.errors is None
