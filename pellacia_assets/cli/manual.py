"""Placeholder: filled in by the issue-7 work in progress."""

import argparse
from typing import Any


def register(commands: Any, *groups: argparse.ArgumentParser) -> None:
    del commands, groups
