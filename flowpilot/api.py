"""Shared DRF plumbing: the error body every endpoint answers with."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from flowpilot.errors import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """
    Answer every error as ``{"detail", "code"}``. Field errors keep DRF's per-field lists beside
    those two keys, so clients can read either.
    """
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        codes = exc.get_codes()
        body: dict[str, Any] = {**fields}
        body.setdefault("detail", _first_message(fields) or "Invalid input.")
        body.setdefault("code", "invalid" if isinstance(codes, dict | list) else str(codes))
        response.data = body
        if getattr(exc, "status_code", status.HTTP_400_BAD_REQUEST) != response.status_code:
            response.status_code = exc.status_code
        return response
    if isinstance(exc, exceptions.APIException):
        detail = response.data.get("detail") if isinstance(response.data, dict) else response.data
        code = exc.get_codes()
        response.data = {
            "detail": str(detail),
            "code": code if isinstance(code, str) else exc.default_code,
        }
    return response


def _first_message(fields: dict[str, Any]) -> str:
    for name, errors in fields.items():
        if isinstance(errors, list) and errors:
            prefix = "" if name == "non_field_errors" else f"{name}: "
            return f"{prefix}{errors[0]}"
        if isinstance(errors, str):
            return errors
    return ""
