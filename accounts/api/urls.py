from django.urls import path

from accounts.api import people, security, views

urlpatterns = [
    path("auth/login", views.login_form, name="api-auth-login"),
    path("auth/login/json", views.login_json, name="api-auth-login-json"),
    path("accounts/me/preferences", views.preferences, name="api-preferences"),
    path("auth/refresh", security.refresh, name="api-auth-refresh"),
    path("auth/logout", security.logout, name="api-auth-logout"),
    path("accounts/me/security", security.security, name="api-security"),
    path("accounts/me/users", people.users, name="api-users"),
    path("accounts/me/users/<int:user_id>", people.user_detail, name="api-user-detail"),
    path(
        "accounts/me/users/<int:user_id>/resend-invitation",
        people.resend_invitation,
        name="api-user-resend-invitation",
    ),
    path(
        "accounts/me/security/revoke-sessions",
        security.revoke_sessions,
        name="api-security-revoke-sessions",
    ),
    path(
        "accounts/me/security/sessions/<str:device_id>/revoke",
        security.revoke_device,
        name="api-security-revoke-device",
    ),
]
