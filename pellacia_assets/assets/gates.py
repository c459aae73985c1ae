"""Turning a quality rule's findings into a blocking check result the UI can explain."""

from __future__ import annotations

from typing import Any

import dagster as dg


def gate(
    check_name: str,
    problems: list[str],
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    **metadata: Any,
) -> dg.AssetCheckResult:
    """Pass when there are no problems; otherwise list every problem on the check's page."""
    listing = "\n".join(f"- {problem}" for problem in problems) or "none"
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=not problems,
        severity=severity,
        metadata={"problems": dg.MetadataValue.md(listing), **metadata},
    )
