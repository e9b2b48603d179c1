"""The ceiling: a raw ASGI app on the same uvicorn that answers every request with one fixed
byte string (the GraphQL response captured from La Factoria), doing no other work.

    python -m bench.raw --port 8123 body.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send


def build_app(body: bytes) -> ASGIApp:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    start = {"type": "http.response.start", "status": 200, "headers": headers}
    response = {"type": "http.response.body", "body": body}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        # The request body is left unread on purpose: the ceiling does the least work an
        # HTTP answer can cost, and uvicorn discards what nobody reads.
        await send(start)
        await send(response)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("body", type=Path, help="file holding the bytes to answer")
    arguments = parser.parse_args()
    # The same server options as `lafactoria serve`, so only the app differs.
    uvicorn.run(
        build_app(arguments.body.read_bytes()),
        host="127.0.0.1",
        port=arguments.port,
        log_config=None,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
