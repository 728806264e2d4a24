"""
OpenAPI plumbing shared by every app's API: the ``{"detail", "code"}`` error body, list
envelopes, and the post-processing hook that documents every 4xx answer on every operation.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

ERROR_COMPONENT = "Error"
# What any endpoint may answer besides its own success: bad input, not signed in, no right to
# it, a foreign or missing object, a state conflict, a refused but well-formed value,
# throttled. All of them carry the same body.
ERROR_STATUSES = {
    "400": "Invalid input (field errors beside detail and code).",
    "401": "Not signed in, or the token expired.",
    "403": "Signed in without the right to do this.",
    "404": "No such object in your account.",
    "409": "The object's state does not allow this now.",
    "422": "Well-formed but refused (a rule of the domain).",
    "429": "Too many attempts; retry later.",
}


class ErrorSerializer(serializers.Serializer[dict[str, Any]]):
    detail = serializers.CharField()
    code = serializers.CharField()


def page_of(
    item: type[serializers.BaseSerializer[Any]], name: str
) -> type[serializers.Serializer[Any]]:
    """The list envelope ``{"results": [...], "next": url | null}`` of cursor-paginated lists."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "results": item(many=True),
            "next": serializers.URLField(
                allow_null=True, help_text="The next page (cursor link), null on the last."
            ),
            "__module__": __name__,
        },
    )


def document_errors(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """
    drf-spectacular post-processing hook: an ``Error`` component (``detail`` and ``code``,
    field errors allowed beside them) answered for every 4xx of every operation.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_COMPONENT] = {
        "type": "object",
        "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
        "required": ["detail", "code"],
        "additionalProperties": True,
    }
    ref = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(
                    status,
                    {"description": description, "content": {"application/json": {"schema": ref}}},
                )
    return result


# The query parameters of every cursor-paginated list.
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="From the previous page's ``next`` link."),
    OpenApiParameter("limit", int, description="Rows per page, 1 to 100 (default 100)."),
]
