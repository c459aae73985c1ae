"""PELLACIA_<PLATFORM>_FALLBACK: the order of the layers, refused with the variable named when it is wrong."""

from __future__ import annotations

import pytest

from resources.fallback.order import (
    LAYERS,
    FallbackConfigError,
    forced_through_exits,
    order_from_env,
    via_of,
)


def test_the_default_is_every_layer_and_a_platform_variable_beats_the_global_one() -> None:
    assert order_from_env("tiktok", {}) == LAYERS
    environ = {"PELLACIA_FALLBACK": "api, manual", "PELLACIA_TIKTOK_FALLBACK": "browser,API+proxy"}
    assert order_from_env("tiktok", environ) == ("browser", "api+proxy")
    assert order_from_env("youtube", environ) == ("api", "manual")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("api,vpn", "PELLACIA_X_FALLBACK: unknown layer vpn; choose from api, api+proxy, browser"),
        ("api,api", "PELLACIA_X_FALLBACK: names a layer twice (api,api)"),
        ("manual", "PELLACIA_X_FALLBACK: names no layer that publishes (manual)"),
        ("manual,api", "PELLACIA_X_FALLBACK: manual is the last resort, so it comes last (manual,api)"),
    ],
)
def test_a_wrong_order_is_refused_naming_the_variable(value: str, says: str) -> None:
    with pytest.raises(FallbackConfigError) as raised:
        order_from_env("x", {"PELLACIA_X_FALLBACK": value})
    assert says in str(raised.value)


def test_forcing_the_exits_keeps_only_the_layers_through_one() -> None:
    assert forced_through_exits(LAYERS, "tiktok") == ("api+proxy", "browser+proxy", "manual")
    with pytest.raises(FallbackConfigError) as raised:
        forced_through_exits(("api", "browser", "manual"), "tiktok")
    assert "add api+proxy or browser+proxy to PELLACIA_TIKTOK_FALLBACK" in str(raised.value)


def test_via_names_the_layer_that_published_and_a_person_over_any_layer() -> None:
    assert via_of({}) == "api" and via_of(None) == "api"
    assert via_of({"via": "browser+proxy", "browser_marker": "abc"}) == "browser+proxy"
    assert via_of({"via": "browser", "manual_entry": "3"}) == "manual"
