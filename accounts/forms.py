from __future__ import annotations

from django import forms


class LoginForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autofocus": True}))
    password = forms.CharField(max_length=256, strip=False, widget=forms.PasswordInput)
