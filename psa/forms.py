from __future__ import annotations

from django import forms

from psa.models import Provider


class IntegrationForm(forms.Form):
    provider = forms.ChoiceField(
        choices=Provider.choices, widget=forms.RadioSelect, initial=Provider.CONNECTWISE
    )
    site = forms.CharField(
        label="Site",
        required=False,
        max_length=255,
        help_text="ConnectWise host, e.g. na.myconnectwise.net (loopback: the local simulator).",
    )
    company_id = forms.CharField(label="Company id", required=False, max_length=64)
    public_key = forms.CharField(
        label="Public key",
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    private_key = forms.CharField(
        label="Private key",
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    client_id = forms.CharField(
        label="Client id",
        required=False,
        max_length=64,
        help_text="The integration's clientId GUID from developer.connectwise.com.",
    )


class WritebackForm(forms.Form):
    cw_resolved_status_id = forms.TypedChoiceField(
        label="Status when resolved", required=False, coerce=int, empty_value=None
    )
    cw_escalated_status_id = forms.TypedChoiceField(
        label="Status when escalated", required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: object, status_choices: list[tuple[str, str]], **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        choices = [("", "Don't change the status"), *status_choices]
        for name in ("cw_resolved_status_id", "cw_escalated_status_id"):
            self.fields[name].choices = choices  # type: ignore[attr-defined]


class TicketFilterForm(forms.Form):
    board = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    status = forms.CharField(required=False, max_length=50)
    assignee = forms.CharField(required=False, max_length=64)
    q = forms.CharField(required=False, max_length=200)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)


class NewTicketForm(forms.Form):
    board_id = forms.TypedChoiceField(label="Board", coerce=int)
    status_id = forms.TypedChoiceField(label="Status", coerce=int, required=False, empty_value=None)
    priority_id = forms.TypedChoiceField(
        label="Priority", coerce=int, required=False, empty_value=None
    )
    company_id = forms.TypedChoiceField(label="Company", coerce=int)
    summary = forms.CharField(label="Summary", max_length=100)
    initial_description = forms.CharField(
        label="Description", required=False, max_length=10_000, widget=forms.Textarea({"rows": 5})
    )
    # Set when the ticket is spun off a session: that session is linked to the new ticket.
    origin = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
