"""
The search index of institutional memory: one document per resolved session and, per account,
the words those documents use (with how many documents use each).

The document keeps the searchable text in weighted columns (problem → A, fix → B, facts → B,
resolution note and ticket → C) plus the few display fields a result shows, so a search reads
this one table. The engine-specific parts live in the migration, not here: on PostgreSQL a
generated, weighted ``tsvector`` column with a GIN index and a ``pg_trgm`` index on the words;
on SQLite an FTS5 table kept in step by triggers.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

# A pseudo-word every document contains: its count is the number of indexed documents of the
# account, which the ranking needs and which a COUNT(*) over the whole index would cost.
DOCS_TERM = "#docs"


class SessionSearchDocument(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    # Deleting a session deletes its document (and, through triggers, its FTS5 row).
    session = models.OneToOneField(
        "sessions_app.AISession", on_delete=models.CASCADE, related_name="search_document"
    )
    problem = models.TextField(blank=True, default="")
    fix_text = models.TextField(blank=True, default="")
    facts_text = models.TextField(blank=True, default="")
    note_text = models.TextField(blank=True, default="")
    other_text = models.TextField(blank=True, default="")
    # Display and filter fields.
    outcome = models.CharField(max_length=24, blank=True, default="")
    fix_id = models.BigIntegerField(null=True, blank=True)
    fix_title = models.CharField(max_length=200, blank=True, default="")
    failed_fixes = models.JSONField(default=list, blank=True)
    engineer = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    engineer_name = models.CharField(max_length=150, blank=True, default="")
    ticket = models.CharField(max_length=32, blank=True, default="")
    resolved_at = models.DateTimeField()
    # The distinct words of the document: what its lexicon counts were incremented with.
    terms = models.JSONField(default=list, blank=True)
    source_version = models.PositiveIntegerField(default=0)
    indexed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["account", "-resolved_at", "-id"], name="searchdoc_account_recent"
            ),
            models.Index(fields=["account", "outcome"], name="searchdoc_account_outcome"),
            models.Index(fields=["account", "engineer"], name="searchdoc_account_engineer"),
            models.Index(fields=["account", "ticket"], name="searchdoc_account_ticket"),
        ]

    def __str__(self) -> str:
        return f"#{self.session_id}: {self.problem[:60]}"


class SessionSearchTerm(models.Model):
    """A word of the account's indexed documents: the typo-correction vocabulary and its idf."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    term = models.CharField(max_length=64)
    doc_count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "term"], name="searchterm_account_term")
        ]

    def __str__(self) -> str:
        return f"{self.term} ({self.doc_count})"
