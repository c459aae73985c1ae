"""Flow data files: the bundled TikTok flow loads whole, a replacement folder wins, a broken file is refused
when loaded with the file and the field named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from resources.browser.flow import FLOWS_DIR_VARIABLE, FlowError, available_flows, load_flow, parse_flow

BUNDLED = Path(__file__).resolve().parents[3] / "resources" / "browser" / "flows" / "tiktok.yaml"


def test_the_tiktok_flow_loads_whole() -> None:
    flow = load_flow("tiktok")
    assert flow.web_url == "https://www.tiktok.com"
    assert flow.path("upload") == "/tiktokstudio/upload"
    assert flow.path("profile", username="someone") == "/@someone"
    assert flow.session.cookie == "sessionid"
    assert flow.steps[0].do == "set_file"
    assert [step.name for step in flow.steps if step.commit] == ["post button"]
    assert set(flow.options["privacy_level"].labels) == {
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    }
    assert ".captcha-verify-container" in flow.challenge


def test_the_flow_file_cites_the_uploaders_it_follows() -> None:
    text = BUNDLED.read_text(encoding="utf-8")
    for source in ("wkaisertexas/tiktok-uploader", "dreammis/social-auto-upload", "tiktok-captcha-solver"):
        assert source in text


def test_every_platform_has_a_flow_and_another_name_says_which_do() -> None:
    every = ["facebook", "instagram", "linkedin", "tiktok", "x", "youtube"]
    assert available_flows() == every
    assert [load_flow(platform).platform for platform in every] == every
    with pytest.raises(FlowError, match=r"no browser flow for myspace yet \(flows exist for: facebook, "):
        load_flow("myspace")


def test_a_replacement_folder_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    data["pages"]["upload"] = "/creator-center/upload"
    (tmp_path / "tiktok.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setenv(FLOWS_DIR_VARIABLE, str(tmp_path))
    flow = load_flow("tiktok")
    assert flow.path("upload") == "/creator-center/upload"
    assert flow.source == str(tmp_path / "tiktok.yaml")


def broken(change: str, value: object) -> str:
    """The bundled flow with one field (a dotted path; steps by index) replaced."""
    data = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    *parents, last = change.split(".")
    target = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is None:
        del target[int(last) if last.isdigit() else last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return yaml.safe_dump(data)


@pytest.mark.parametrize(
    ("change", "value", "complaint"),
    [
        ("upload.steps.0.do", "teleport", r"upload.steps\[0\]: unknown step 'teleport'"),
        ("upload.steps.0.selector", None, r"upload.steps\[0\] \(set_file\) needs selector"),
        ("upload.steps.3.value", "mood", r"value 'mood' is not one of the declared options"),
        ("upload.steps.7.commit", False, r"exactly one step with commit: true"),
        ("upload.steps.0.colour", "red", r"unknown field\(s\) colour"),
        ("session.cookie", None, r"session: cookie is missing"),
        ("profile.id_pattern", "(", r"profile.id_pattern is not a regular expression"),
        ("profile.reload_s", "soon", r"profile: reload_s must be a number of seconds"),
        ("marker", "loud", r"marker must be one of invisible, visible"),
        ("challenge", [], r"challenge must be a non-empty list"),
    ],
)
def test_a_broken_flow_is_refused_naming_the_field(change: str, value: object, complaint: str) -> None:
    with pytest.raises(FlowError, match=complaint) as caught:
        parse_flow(broken(change, value), "flows/tiktok.yaml")
    assert str(caught.value).startswith("flows/tiktok.yaml")


def test_a_file_that_is_not_yaml_is_refused() -> None:
    with pytest.raises(FlowError, match="not valid YAML"):
        parse_flow("platform: [tiktok", "bad.yaml")
