"""Which paths a platform account's posts may take, in which order: PELLACIA_<PLATFORM>_FALLBACK.

The layers, default order: `api` (the platform's API, direct), `api+proxy` (the API through a VPN/proxy
exit), `browser` (the platform's web upload page in Chromium, direct), `browser+proxy` (the same through
an exit), `manual` (the manual queue and an alert: a person posts it). `PELLACIA_FALLBACK` sets one order
for every platform; a platform's own variable wins. Leaving a layer out turns it off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, cast

Layer = Literal["api", "api+proxy", "browser", "browser+proxy", "manual"]
LAYERS: tuple[Layer, ...] = ("api", "api+proxy", "browser", "browser+proxy", "manual")
Path = Literal["api", "browser"]
ALL_PLATFORMS_VARIABLE = "PELLACIA_FALLBACK"
VIA_KEY = "via"  # the ledger entry's platform_ids: the layer that is (or was last) publishing it
MANUAL_ENTRY_KEY = "manual_entry"  # written by `manual resolve`: a person posted it


class FallbackConfigError(ValueError):
    """A fallback order that cannot be used; the message names the variable and what is wrong."""


def fallback_variable(platform: str) -> str:
    return f"PELLACIA_{platform.upper()}_FALLBACK"


def path_of(layer: Layer) -> Path:
    """The way a layer publishes: through the API or through the web page (an exit changes the network,
    not the path)."""
    return "browser" if layer.startswith("browser") else "api"


def through_exit(layer: Layer) -> bool:
    return layer.endswith("+proxy")


def order_from_env(platform: str, environ: Mapping[str, str] = os.environ) -> tuple[Layer, ...]:
    """The platform's order: its own variable, else PELLACIA_FALLBACK, else every layer."""
    variable = fallback_variable(platform)
    text = environ.get(variable, "").strip()
    if not text:
        variable, text = ALL_PLATFORMS_VARIABLE, environ.get(ALL_PLATFORMS_VARIABLE, "").strip()
    return parse_order(text, variable) if text else LAYERS


def parse_order(text: str, variable: str) -> tuple[Layer, ...]:
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in LAYERS]
    if unknown:
        raise FallbackConfigError(
            f"{variable}: unknown layer {', '.join(unknown)}; choose from {', '.join(LAYERS)}"
        )
    if len(set(names)) != len(names):
        raise FallbackConfigError(f"{variable}: names a layer twice ({text})")
    if not names or names == ["manual"]:
        raise FallbackConfigError(f"{variable}: names no layer that publishes ({text})")
    if "manual" in names and names[-1] != "manual":
        raise FallbackConfigError(f"{variable}: manual is the last resort, so it comes last ({text})")
    return tuple(cast(Layer, name) for name in names)


def forced_through_exits(order: tuple[Layer, ...], platform: str) -> tuple[Layer, ...]:
    """`upload --force-vpn-fallback`: the order without its direct layers."""
    kept = tuple(layer for layer in order if through_exit(layer) or layer == "manual")
    if not any(through_exit(layer) for layer in kept):
        raise FallbackConfigError(
            f"--force-vpn-fallback: the {platform} fallback order ({', '.join(order)}) has no layer through "
            f"an exit; add api+proxy or browser+proxy to {fallback_variable(platform)}"
        )
    return kept


def via_of(platform_ids: Mapping[str, str] | None) -> str:
    """Which layer published a ledger entry: `manual` when a person recorded it, else the layer the chain
    wrote (`api` for posts made before the chain, or with it off)."""
    ids = platform_ids or {}
    if MANUAL_ENTRY_KEY in ids:
        return "manual"
    return ids.get(VIA_KEY) or "api"
