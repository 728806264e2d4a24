"""
Every route of the URL conf, for tests that must cover each page and endpoint — including the
ones added later — without listing them by hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

_CONVERTER_RE = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")
# Routes no form or body reaches: Django admin (its own forms, own tests), the schema and docs.
SKIPPED_PREFIXES = ("admin/", "static/")


@dataclass(frozen=True)
class Route:
    template: str  # e.g. "api/v1/ai-sessions/<int:session_id>/messages"
    name: str | None
    callback: Callable[..., Any]

    @property
    def is_api(self) -> bool:
        return self.template.startswith("api/")

    @property
    def methods(self) -> frozenset[str] | None:
        """The HTTP methods a DRF view declares; None when the view does not say."""
        cls = getattr(self.callback, "cls", None)
        names = getattr(cls, "http_method_names", None) if cls is not None else None
        if not names:
            return None
        return frozenset(name.upper() for name in names) - {"OPTIONS", "HEAD"}

    @property
    def body_methods(self) -> list[str]:
        """POST, PUT and PATCH, where the view takes them (all three when it does not say)."""
        declared = self.methods
        return [m for m in ("POST", "PUT", "PATCH") if declared is None or m in declared]

    def fill(self, values: Mapping[str, Any]) -> str:
        """The path with each converter replaced by ``values[name]`` (or a harmless default)."""

        def replace(match: re.Match[str]) -> str:
            name, kind = match.group("name"), match.group("kind") or "str"
            if name in values:
                return str(values[name])
            return {"int": "999999", "uuid": "00000000-0000-0000-0000-000000000000"}.get(kind, "x")

        return "/" + _CONVERTER_RE.sub(replace, self.template)

    @property
    def parameters(self) -> list[str]:
        return [m.group("name") for m in _CONVERTER_RE.finditer(self.template)]


def _walk(patterns: list[Any], prefix: str) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            template = prefix + str(entry.pattern)
            template = template.lstrip("^").rstrip("$")
            yield Route(template=template, name=entry.name, callback=entry.callback)


def all_routes() -> list[Route]:
    routes = [
        route
        for route in _walk(get_resolver().url_patterns, "")
        if not route.template.startswith(SKIPPED_PREFIXES)
    ]
    return sorted(routes, key=lambda route: route.template)


def api_routes() -> list[Route]:
    return [route for route in all_routes() if route.is_api]


def page_routes() -> list[Route]:
    return [route for route in all_routes() if not route.is_api]


def form_field_names() -> list[str]:
    """Every ``name="…"`` of a form control in the project's templates: the fields page forms
    read, found without listing them (a new form is covered by its template)."""
    root = Path(__file__).resolve().parents[2]
    names: set[str] = set()
    for template in root.glob("**/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        text = template.read_text(encoding="utf-8", errors="replace")
        names.update(re.findall(r'<(?:input|textarea|select|button)[^>]*\sname="([\w-]+)"', text))
    names.discard("csrfmiddlewaretoken")
    return sorted(names)
