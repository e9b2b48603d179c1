"""HTTP hardening shared by every transport: client addresses behind trusted proxies, CORS,
and the guard in front of ``/graphql`` (body size, content type, methods, batching)."""
