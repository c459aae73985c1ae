"""`pellacia-dist api [--host 127.0.0.1] [--port 8000]`: the REST API (pellacia_assets/api) under uvicorn,
until Ctrl-C or SIGTERM.

It refuses to start without an API token: an API that answers every request 503 helps nobody, and one
without authentication is not an option (it approves stories and schedules posts).
"""

from __future__ import annotations

import argparse
import sys

from pellacia_assets.settings import Settings


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `api` to the `pellacia-dist` parser (see `cli.build_parser`)."""
    api = commands.add_parser(
        "api",
        help="serve the REST API (token-authenticated; OpenAPI at /openapi.json, docs at /docs)",
        description="Serve the REST API for $PELLACIA_HOME. Needs PELLACIA_API_TOKEN or "
        "PELLACIA_API_TOKENS_FILE; PELLACIA_API_RATE (default 120/minute) limits each token.",
    )
    api.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    api.add_argument("--port", type=int, default=8000, help="the port (default 8000)")
    api.set_defaults(handler=cmd_api)


def _refuse(reason: str) -> int:
    print(f"pellacia-dist: {reason}", file=sys.stderr)
    return 2


def cmd_api(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from pellacia_assets.api.app import create_app
    from pellacia_assets.api.auth import NOT_CONFIGURED, configured_tokens
    from pellacia_assets.api.errors import ApiConfigError
    from pellacia_assets.observability.logs import LogConfigError, configure_logging

    if not 0 < args.port < 65536:
        return _refuse(f"--port {args.port}: expected 1 to 65535")
    try:
        if not configured_tokens():
            return _refuse(f"{NOT_CONFIGURED}; the API does not start without one")
        app = create_app(settings)
        configure_logging()
    except (ApiConfigError, LogConfigError) as error:
        return _refuse(str(error))
    print(f"REST API for {settings.home} on http://{args.host}:{args.port} (docs: /docs)", flush=True)
    # log_config=None: uvicorn's loggers go through ours (PELLACIA_LOG_FORMAT=json included)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, server_header=False)
    return 0
