"""A platform's web upload flow, read from its data file (flows/<platform>.yaml) and checked whole.

Everything that changes when a platform redesigns its pages lives in the data file: page paths, the
session cookie, challenge selectors, the upload steps and the profile's post tiles. The uploader
interprets the steps; a file that names an unknown step, leaves out a selector a step needs or uses an
option it does not declare is refused when loaded, with the file and the field in the message, instead
of failing halfway through an upload.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

FLOWS_DIR_VARIABLE = "PELLACIA_BROWSER_FLOWS_DIR"
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    # step -> the fields it requires
    "set_file": ("selector",),
    "wait_upload": ("done",),
    "type": ("selector", "text"),
    "choose": ("open", "option", "value"),
    "pick": ("option", "value"),  # a radio button or tab: no list to open first
    "click": ("selector",),
    "click_if_present": ("selector",),
    "switch": ("selector", "value"),
    "wait_enabled": ("selector", "attribute", "enabled"),
    "confirm": (),
}
MARKER_STYLES = ("invisible", "visible")


class FlowError(ValueError):
    """A flow data file that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Step:
    """One action on the upload page. `name` is how messages call it ("post button")."""

    do: str
    name: str
    selector: str | None = None
    text: str | None = None
    clear: bool = False
    open: str | None = None
    option: str | None = None
    value: str | None = None
    attribute: str | None = None
    enabled: str | None = None
    progress: str | None = None
    done: str | None = None
    error: str | None = None
    url: str | None = None
    texts: tuple[str, ...] = ()
    click_when_shown: tuple[str, ...] = ()
    commit: bool = False
    timeout_s: float | None = None
    link: str | None = None


@dataclass(frozen=True)
class Option:
    """A declaration the steps use (privacy level, AI content): platform value -> what the page shows."""

    name: str
    labels: Mapping[str, str]
    required: bool = False
    default: str | None = None


@dataclass(frozen=True)
class Pages:
    home: str
    login: str
    upload: str
    profile: str
    after_post: str | None = None
    login_qr: str | None = None


@dataclass(frozen=True)
class SessionRules:
    cookie: str
    logged_out: tuple[str, ...]
    profile_link: str | None = None
    qr_code: str | None = None
    username_pattern: str | None = None
    login_form: str | None = None  # a login form shown in place of a page (no move to a login path)


@dataclass(frozen=True)
class ProfileRules:
    item: str
    link: str
    caption: str
    id_pattern: str
    caption_attribute: str | None = None
    appear_timeout_s: float = 180.0
    reload_s: float = 5.0
    confirm_grace_s: float = 1800.0


@dataclass(frozen=True)
class Flow:
    platform: str
    source: str
    web_url: str
    accept: tuple[str, ...]
    pages: Pages
    session: SessionRules
    challenge: tuple[str, ...]
    ready: str
    steps: tuple[Step, ...]
    profile: ProfileRules
    options: Mapping[str, Option] = field(default_factory=dict)
    frame: str | None = None
    element_timeout_s: float = 30.0
    marker: str = "invisible"

    def path(self, page: str, **values: str) -> str:
        """A page's path with its {placeholders} filled ("/@{username}")."""
        template: str | None = getattr(self.pages, page)
        if template is None:
            raise FlowError(f"{self.source}: names no '{page}' page")
        return template.format(**values)


def flows_dir() -> Path | None:
    """The folder of replacement flow files, when PELLACIA_BROWSER_FLOWS_DIR names one."""
    value = os.environ.get(FLOWS_DIR_VARIABLE, "").strip()
    return Path(value).expanduser() if value else None


def available_flows() -> list[str]:
    """The platforms that have a flow file (the bundled ones and any in PELLACIA_BROWSER_FLOWS_DIR)."""
    names = {
        Path(entry.name).stem
        for entry in resources.files("resources.browser.flows").iterdir()
        if entry.name.endswith(".yaml")
    }
    folder = flows_dir()
    if folder is not None and folder.is_dir():
        names |= {path.stem for path in folder.glob("*.yaml")}
    return sorted(names)


def load_flow(platform: str) -> Flow:
    """The flow of `platform`: PELLACIA_BROWSER_FLOWS_DIR/<platform>.yaml when there is one, else the
    bundled file."""
    folder = flows_dir()
    override = folder / f"{platform}.yaml" if folder is not None else None
    if override is not None and override.is_file():
        return parse_flow(override.read_text(encoding="utf-8"), str(override))
    bundled = resources.files("resources.browser.flows") / f"{platform}.yaml"
    if not bundled.is_file():
        known = ", ".join(available_flows()) or "none"
        raise FlowError(f"no browser flow for {platform} yet (flows exist for: {known})")
    return parse_flow(bundled.read_text(encoding="utf-8"), f"flows/{platform}.yaml")


def parse_flow(text: str, source: str) -> Flow:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise FlowError(f"{source}: not valid YAML ({str(error).splitlines()[0]})") from None
    reader = _Reader(data, source)
    declared = _mapping(reader.data.get("options") or {}, f"{source}: options")
    options = {str(name): _option(str(name), spec, source) for name, spec in declared.items()}
    pages = reader.section("pages")
    session = reader.section("session")
    upload = reader.section("upload")
    profile = reader.section("profile")
    steps = tuple(_step(raw, index, source, options) for index, raw in enumerate(upload.list("steps")))
    commits = [step for step in steps if step.commit]
    if len(commits) != 1:
        raise FlowError(
            f"{source}: upload.steps must have exactly one step with commit: true (the Post click)"
        )
    flow = Flow(
        platform=reader.text("platform"),
        source=source,
        web_url=reader.text("web_url").rstrip("/"),
        accept=tuple(suffix.lower() for suffix in reader.list("accept")),
        pages=Pages(
            home=pages.text("home"),
            login=pages.text("login"),
            upload=pages.text("upload"),
            profile=pages.text("profile"),
            after_post=pages.optional("after_post"),
            login_qr=pages.optional("login_qr"),
        ),
        session=SessionRules(
            cookie=session.text("cookie"),
            logged_out=tuple(str(path) for path in session.list("logged_out")),
            profile_link=session.optional("profile_link"),
            qr_code=session.optional("qr_code"),
            username_pattern=session.optional("username_pattern"),
            login_form=session.optional("login_form"),
        ),
        challenge=tuple(str(selector) for selector in reader.list("challenge")),
        ready=upload.text("ready"),
        steps=steps,
        profile=ProfileRules(
            item=profile.text("item"),
            link=profile.text("link"),
            caption=profile.text("caption"),
            id_pattern=profile.text("id_pattern"),
            caption_attribute=profile.optional("caption_attribute"),
            appear_timeout_s=profile.number("appear_timeout_s", 180.0),
            reload_s=profile.number("reload_s", 5.0),
            confirm_grace_s=profile.number("confirm_grace_s", 1800.0),
        ),
        options=options,
        frame=upload.optional("frame"),
        element_timeout_s=reader.number("element_timeout_s", 30.0),
        marker=reader.optional("marker") or "invisible",
    )
    if flow.marker not in MARKER_STYLES:
        raise FlowError(f"{source}: marker must be one of {', '.join(MARKER_STYLES)}")
    patterns = {"profile.id_pattern": flow.profile.id_pattern}
    if flow.session.username_pattern is not None:
        patterns["session.username_pattern"] = flow.session.username_pattern
    for name, pattern in patterns.items():
        try:
            re.compile(pattern)
        except re.error as error:
            raise FlowError(f"{source}: {name} is not a regular expression ({error})") from None
    return flow


def _option(name: str, raw: Any, source: str) -> Option:
    spec = _mapping(raw, f"{source}: options.{name}")
    labels = _mapping(spec.get("labels"), f"{source}: options.{name}.labels")
    default = spec.get("default")
    return Option(
        name=name,
        labels={str(value): str(label) for value, label in labels.items()},
        required=bool(spec.get("required", False)),
        default=None if default is None else str(default),
    )


def _step(raw: Any, index: int, source: str, options: Mapping[str, Option]) -> Step:
    where = f"{source}: upload.steps[{index}]"
    spec = _mapping(raw, where)
    kind = str(spec.get("do", ""))
    if kind not in STEP_FIELDS:
        raise FlowError(f"{where}: unknown step {kind!r}; steps are {', '.join(STEP_FIELDS)}")
    missing = [name for name in STEP_FIELDS[kind] if not spec.get(name)]
    if missing:
        raise FlowError(f"{where} ({kind}) needs {', '.join(missing)}")
    known = set(Step.__dataclass_fields__)
    unknown = sorted(set(spec) - known)
    if unknown:
        raise FlowError(f"{where}: unknown field(s) {', '.join(unknown)}")
    value = spec.get("value")
    if value is not None and value not in options:
        raise FlowError(f"{where}: value {value!r} is not one of the declared options ({', '.join(options)})")
    if kind == "confirm" and not (spec.get("url") or spec.get("texts")):
        raise FlowError(f"{where} (confirm) needs a url or texts that show the post went through")
    timeout = spec.get("timeout_s")
    return Step(
        do=kind,
        name=str(spec.get("name") or spec.get("selector") or kind),
        selector=_optional_text(spec, "selector"),
        text=_optional_text(spec, "text"),
        clear=bool(spec.get("clear", False)),
        open=_optional_text(spec, "open"),
        option=_optional_text(spec, "option"),
        value=None if value is None else str(value),
        attribute=_optional_text(spec, "attribute"),
        enabled=_optional_text(spec, "enabled"),
        progress=_optional_text(spec, "progress"),
        done=_optional_text(spec, "done"),
        error=_optional_text(spec, "error"),
        url=_optional_text(spec, "url"),
        texts=tuple(str(text) for text in spec.get("texts") or ()),
        click_when_shown=tuple(str(selector) for selector in spec.get("click_when_shown") or ()),
        commit=bool(spec.get("commit", False)),
        timeout_s=None if timeout is None else float(timeout),
        link=_optional_text(spec, "link"),
    )


def _optional_text(spec: Mapping[str, Any], name: str) -> str | None:
    value = spec.get(name)
    return None if value is None else str(value)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise FlowError(f"{where} must be a mapping")
    return value


class _Reader:
    """Typed access to one mapping of the file, naming the field in every complaint."""

    def __init__(self, data: Any, where: str) -> None:
        self.data = _mapping(data, where)
        self.where = where

    def section(self, name: str) -> _Reader:
        return _Reader(self.data.get(name), f"{self.where}: {name}")

    def text(self, name: str) -> str:
        value = self.data.get(name)
        if value is None or str(value).strip() == "":
            raise FlowError(f"{self.where}: {name} is missing")
        return str(value)

    def optional(self, name: str) -> str | None:
        value = self.data.get(name)
        return None if value is None else str(value)

    def number(self, name: str, default: float) -> float:
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise FlowError(f"{self.where}: {name} must be a number of seconds")
        return float(value)

    def list(self, name: str) -> list[Any]:
        value = self.data.get(name)
        if not isinstance(value, list) or not value:
            raise FlowError(f"{self.where}: {name} must be a non-empty list")
        return value
