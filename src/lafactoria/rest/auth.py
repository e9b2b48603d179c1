"""``/auth``: accounts, OAuth2 password login, API keys and the current user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from lafactoria.rest.dependencies import ClientAddress, CurrentPrincipal, ServicesDep
from lafactoria.rest.errors import ApiRoute, error_responses
from lafactoria.rest.schemas import (
    ApiKeyCreated,
    ApiKeyRequest,
    RegisterRequest,
    TokenOut,
    UserOut,
)

router = APIRouter(prefix="/auth", tags=["auth"], route_class=ApiRoute)


@router.post(
    "/register",
    status_code=201,
    responses=error_responses(400, 413, 409, 422, 429),
    summary="Register",
)
async def register(body: RegisterRequest, services: ServicesDep) -> UserOut:
    """Create an account. Log in afterwards to get a token."""
    user = await services.auth.register(email=body.email, password=body.password)
    return UserOut.from_model(user)


@router.post("/login", responses=error_responses(400, 413, 401, 422, 429), summary="Log in")
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    services: ServicesDep,
    client: ClientAddress,
) -> TokenOut:
    """OAuth2 password grant (form-encoded): ``username`` is the email address.

    The same 401 answers an unknown email and a wrong password; repeated failures for an
    account or from one address are refused with 429 for a while.
    """
    result = await services.auth.login(
        email=form.username, password=form.password, client_address=client
    )
    return TokenOut.from_result(result)


@router.post(
    "/api-key",
    status_code=201,
    responses=error_responses(400, 413, 401, 422),
    summary="Create an API key",
)
async def create_api_key(
    body: ApiKeyRequest, principal: CurrentPrincipal, services: ServicesDep
) -> ApiKeyCreated:
    """Create an API key for scripts and servers; its secret is returned only this once."""
    created = await services.auth.create_api_key(
        user_id=principal.user.id, name=body.name, expires_in_days=body.expires_in_days
    )
    return ApiKeyCreated.from_created(created)


@router.get("/me", responses=error_responses(401), summary="The current user")
async def me(principal: CurrentPrincipal) -> UserOut:
    return UserOut.from_model(principal.user)
