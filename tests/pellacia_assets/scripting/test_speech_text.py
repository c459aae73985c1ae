from __future__ import annotations

import pytest

from pellacia_assets.scripting.speech_text import plain_text, to_speech, words


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Read https://example.com/a_b?c=1. Then stop.", "Read. Then stop."),
        ("See www.example.org/page for more", "See for more."),
        ("Check [this post](https://reddit.com/r/x) out", "Check this post out."),
        ("![a cat](https://i.imgur.com/cat.png) My cat", "My cat."),
        (
            "**Bold** and *italic* and __under__ and ~~gone~~ and `code`",
            "Bold and italic and under and gone and code.",
        ),
        ("# Heading\n\nBody text here", "Heading. Body text here."),
        ("> quoted line\n\n- first\n- second\n1. third", "quoted line. first. second. third."),
        ("<p>Hello &amp; welcome</p>", "Hello and welcome."),
        ("Go to r/AskReddit now", "Go to r slash AskReddit now."),
        ("I love it 😭😂🎉!", "I love it!"),
        ("Family 👨‍👩‍👧 time ❤️ now 👍🏽 :) ok", "Family time now ok."),
        ("It cost $1,200 today", "It cost one thousand two hundred dollars today."),
        ("Only $3.50 left", "Only three dollars and fifty cents left."),
        (
            "A $2M house and £5 and €1.01",
            "A two million dollars house and five pounds and one euro and one cent.",
        ),
        ("I made 5k from it", "I made five thousand from it."),
        ("Score was 75% and 3.14", "Score was seventy-five percent and three point one four."),
        ("My 3rd try", "My third try."),
        ("Back in 1999 it was fun", "Back in nineteen ninety-nine it was fun."),
        ("In the 1990s and '80s", "In the nineteen nineties and eighties."),
        ("At 7:30 am or 10pm", "At seven thirty a.m. or ten p.m."),
        ("Dr. Smith met Mr. Jones", "Doctor Smith met Mister Jones."),
        ("apples, pears, etc. Then more", "apples, pears, et cetera. Then more."),
        ("fruit, e.g. apples, i.e. red ones", "fruit, for example, apples, that is, red ones."),
        ("TIFU by being late", "Today I messed up by being late."),
        ("AITA for leaving?", "Am I the a-hole for leaving?"),
        ("TL;DR: she left", "Too long, didn't read: she left."),
        ("IMO my BF and the OP are right", "In my opinion my boyfriend and the original poster are right."),
        ("I (25F) and my GF (27F)", "I (twenty-five, female) and my girlfriend (twenty-seven, female)."),
        ("Salt & pepper", "Salt and pepper."),
        ("It was late. TBH I left. IMO fine", "It was late. To be honest I left. In my opinion fine."),
    ],
)
def test_to_speech_reads_like_a_narrator(written: str, spoken: str) -> None:
    assert to_speech(written) == spoken


def test_to_speech_keeps_sentence_punctuation_and_collapses_whitespace() -> None:
    assert to_speech("Wait!!!   What?!   Really...\n\n\nYes.") == "Wait! What? Really... Yes."


def test_to_speech_leaves_no_digits_symbols_or_pictographs() -> None:
    messy = "**$1,234.56** on 12/25 at 9:05pm 😀 via https://x.co, #1 & 50% (~3k) <b>wow</b> | ok"
    spoken = to_speech(messy)
    assert not any(char.isdigit() for char in spoken)
    assert not set("$%&*#|<>😀") & set(spoken)
    assert "http" not in spoken


def test_to_speech_is_deterministic_and_stable_on_its_own_output() -> None:
    text = "On March 3rd, 2021 my MIL paid $40 for 2 tickets at 8 pm. TBH it was fine."
    once = to_speech(text)
    assert once == to_speech(text)
    assert to_speech(once) == once


def test_plain_text_keeps_numbers_and_drops_markup() -> None:
    assert plain_text("**Cost:** $5 [link](https://a.b) 🎉") == "Cost: $5 link 🎉"


def test_words_ignores_punctuation_only_tokens() -> None:
    assert words("Hello, world - it's twenty-five ... ok.") == [
        "Hello,",
        "world",
        "it's",
        "twenty-five",
        "ok.",
    ]
