"""Server-side syntax highlighting of PowerShell (Pygments): spans with classes, no inline style."""

from __future__ import annotations

from functools import lru_cache

from django.utils.safestring import SafeString, mark_safe
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PowerShellLexer

_LEXER = PowerShellLexer()
_FORMATTER = HtmlFormatter(nowrap=True, classprefix="ps-")


@lru_cache(maxsize=256)
def highlight(script: str) -> SafeString:
    """The script as escaped HTML with token spans; its text content is the script itself."""
    html = str(pygments_highlight(script, _LEXER, _FORMATTER))
    return mark_safe(html)  # noqa: S308 - Pygments escapes every character of the source
