"""What REST routes ask FastAPI for: the services and the authenticated caller."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer

from lafactoria.auth.service import Principal
from lafactoria.errors import Unauthenticated
from lafactoria.http.client import ClientAddresses
from lafactoria.observability.middleware import current_request
from lafactoria.rest.paths import API_PREFIX
from lafactoria.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


@lru_cache(maxsize=4)
def _client_addresses(trusted_proxies: tuple[str, ...]) -> ClientAddresses:
    return ClientAddresses(trusted_proxies)


def client_address(request: Request, services: ServicesDep) -> str | None:
    """The caller's address as rate limits count it (``X-Forwarded-For`` only from a trusted
    proxy), the same way the GraphQL transport resolves it."""
    resolver = _client_addresses(tuple(services.settings.trusted_proxies))
    return resolver.resolve(
        request.client.host if request.client else None, request.headers.getlist("x-forwarded-for")
    )


ClientAddress = Annotated[str | None, Depends(client_address)]

# Two descriptions of the same ``Authorization: Bearer`` header, so the OpenAPI page's
# "Authorize" dialog offers both a password login and pasting an API key. Neither errors on
# its own: ``current_principal`` decides, with the REST error shape.
_password_login = OAuth2PasswordBearer(
    tokenUrl=f"{API_PREFIX}/auth/login",
    scheme_name="PasswordLogin",
    description="Log in with your email (as username) and password.",
    auto_error=False,
)
_bearer = HTTPBearer(
    scheme_name="BearerToken",
    description="An API key (lf_…) or an access token from /auth/login.",
    auto_error=False,
)


async def current_principal(
    services: ServicesDep,
    token: Annotated[str | None, Depends(_password_login)],
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind ``Authorization: Bearer <access token or API key>``; 401 otherwise."""
    if not token:
        raise HTTPException(
            401,
            "authentication required: send Authorization: Bearer <access token or API key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        principal = await services.auth.authenticate(token)
    except Unauthenticated as exc:
        # RFC 6750 §3: a credential was sent and refused, so say why in the challenge.
        raise HTTPException(
            401, exc.message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ) from exc
    request = current_request()
    if request is not None:  # the request's log line names the user
        request.user_id = principal.user.id
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
