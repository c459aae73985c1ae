"""Placeholder: filled in by the issue-7 work in progress."""

from typing import Any


def register(*parsers: Any) -> None:
    del parsers
