from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/login", views.login_form, name="api-auth-login"),
    path("auth/login/json", views.login_json, name="api-auth-login-json"),
    path("accounts/me/preferences", views.preferences, name="api-preferences"),
]
