"""What the script block shows wherever a script is offered for copying: the highlighted script,
its safety review, what is still missing, and whether Copy is allowed yet."""

from __future__ import annotations

from typing import Any

from scripts.highlight import highlight
from scripts.parameters import ParameterSpec
from scripts.review import review_script

ACK_MESSAGE = "This script does something risky: tick “I understand” before copying it."


def script_output(
    script: str,
    *,
    dom_id: str,
    schema: list[ParameterSpec] | None = None,
    missing: tuple[str, ...] | list[str] = (),
    error: str = "",
) -> dict[str, Any]:
    labels = {spec.name: spec.display_label for spec in schema or []}
    missing_labels = [labels.get(name, name) for name in missing]
    review = review_script(script) if script.strip() else None
    blocked = ""
    if error:
        blocked = error
    elif missing_labels:
        blocked = "Fill in the required values first: " + ", ".join(missing_labels) + "."
    return {
        "dom_id": dom_id,
        "script": script,
        "highlighted": highlight(script) if script else "",
        "review": review,
        "findings": list(review.findings) if review else [],
        "needs_ack": bool(review and review.has_high),
        "missing": missing_labels,
        "copy_blocked": blocked,
        "ack_message": ACK_MESSAGE,
        "error": error,
    }
