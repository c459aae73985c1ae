from __future__ import annotations

import json

import pytest

from pellacia_assets.scripting.errors import ScriptWriterError
from pellacia_assets.scripting.llm_writer import LLMScriptWriter, parse_answer
from pellacia_assets.scripting.template_writer import TemplateScriptWriter
from pellacia_assets.stories.model import Story
from resources.llm.client import ChatCompletionsClient
from resources.platforms.limits import validate_copy
from sandbox.openai_chat import SANDBOX_MODEL, Fault, running_chat_server

KEY = "sk-writer-secret-42"
BODY = " ".join(
    f"On day {day} I paid $25 for a coffee at 8am, and the barista smiled." for day in range(1, 40)
)
STORY = Story(key="s-1", source_kind="reddit", title="My barista knows me", body=BODY, tags=("coffee",))


def test_llm_writer_end_to_end_through_the_sandbox() -> None:
    with running_chat_server(api_key=KEY) as sandbox:
        writer = LLMScriptWriter(ChatCompletionsClient(sandbox.base_url, SANDBOX_MODEL, KEY, timeout_s=10))
        script = writer.write(STORY, words_per_minute=160, max_part_seconds=58)
    assert script.writer == f"llm:{SANDBOX_MODEL}"
    assert len(script.parts) > 1
    first = script.parts[0]
    assert first.hook == "My barista knows me."
    assert "twenty-five dollars" in first.narration and "$" not in first.narration
    assert script.parts[-1].call_to_action == "Follow for more stories like this."
    for part in script.parts:
        assert part.estimated_seconds <= 58
        for platform, copy in part.copy.items():
            assert validate_copy(platform, copy.title, copy.caption, copy.hashtags) == []
    sent = sandbox.requests[0].body
    assert sent["messages"][0]["role"] == "system" and "JSON" in sent["messages"][0]["content"]
    assert BODY in sent["messages"][1]["content"]


def test_same_assembly_as_the_template_writer() -> None:
    answer = json.dumps(
        {
            "hook": "My barista knows me",
            "narration": BODY,
            "call_to_action": "Follow for more stories like this.",
        }
    )
    with running_chat_server() as sandbox:
        sandbox.inject(Fault(content=answer))
        llm_script = LLMScriptWriter(
            ChatCompletionsClient(sandbox.base_url, SANDBOX_MODEL, timeout_s=10)
        ).write(STORY, 160)
    template_script = TemplateScriptWriter().write(STORY, 160)
    assert llm_script.parts == template_script.parts


def test_fenced_json_is_accepted() -> None:
    fenced = '```json\n{"hook": "Wow.", "narration": "It was 5 pm.", "call_to_action": "Follow!"}\n```'
    with running_chat_server() as sandbox:
        sandbox.inject(Fault(content=fenced))
        script = LLMScriptWriter(ChatCompletionsClient(sandbox.base_url, SANDBOX_MODEL, timeout_s=10)).write(
            STORY, 160
        )
    assert [part.spoken_segments() for part in script.parts] == [["Wow.", "It was five p.m.", "Follow!"]]


def test_parse_answer_tolerates_prose_around_the_object() -> None:
    parsed = parse_answer('Sure! Here it is: {"hook": "H", "narration": "N", "call_to_action": "C"} Enjoy.')
    assert parsed == {"hook": "H", "narration": "N", "call_to_action": "C"}


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault(status=500, message="upstream exploded"), "HTTP 500: upstream exploded"),
        (Fault(content="I cannot help with that."), "unusable script: the answer is not JSON"),
        (
            Fault(content='{"hook": "H", "narration": "", "call_to_action": 3}'),
            "lacks non-empty text for narration",
        ),
        (Fault(content="[1, 2]"), "JSON but not an object"),
        (
            Fault(content='{"hook": "😀", "narration": "Text.", "call_to_action": "Go."}'),
            "hook has no speakable words",
        ),
    ],
)
def test_bad_answers_are_clear_writer_errors(fault: Fault, message: str) -> None:
    with running_chat_server() as sandbox:
        sandbox.inject(fault)
        writer = LLMScriptWriter(ChatCompletionsClient(sandbox.base_url, SANDBOX_MODEL, timeout_s=10))
        with pytest.raises(ScriptWriterError, match=message) as caught:
            writer.write(STORY, 160)
    assert "'s-1'" in str(caught.value)


def test_wrong_key_is_a_clear_writer_error_without_the_key() -> None:
    with running_chat_server(api_key=KEY) as sandbox:
        writer = LLMScriptWriter(
            ChatCompletionsClient(sandbox.base_url, SANDBOX_MODEL, "sk-nope-secret-99", 10)
        )
        with pytest.raises(ScriptWriterError, match="HTTP 401") as caught:
            writer.write(STORY, 160)
    assert "sk-nope-secret-99" not in str(caught.value)
