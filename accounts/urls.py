from django.urls import path

from accounts import views, views_people, views_security

urlpatterns = [
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("account", views.account_settings, name="account-settings"),
    path("account/audit", views.audit_log, name="account-audit"),
    path("account/audit.csv", views.audit_log_csv, name="account-audit-csv"),
    path("account/people", views_people.people_page, name="account-people"),
    path("account/people/<int:user_id>", views_people.person_update, name="account-person-update"),
    path(
        "account/people/<int:user_id>/resend",
        views_people.person_resend,
        name="account-person-resend",
    ),
    path("account/password", views_people.change_password, name="account-password-change"),
    path("password/forgot", views_people.ForgotPasswordView.as_view(), name="password-forgot"),
    path(
        "password/forgot/sent",
        views_people.ForgotPasswordSentView.as_view(),
        name="password-reset-sent",
    ),
    path(
        "password/reset/<uidb64>/<token>",
        views_people.SetPasswordView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "invitation/<uidb64>/<token>",
        views_people.AcceptInvitationView.as_view(),
        name="account-invitation-accept",
    ),
    path("account/security", views_security.security_settings, name="account-security"),
    path(
        "account/security/revoke-sessions",
        views_security.revoke_sessions,
        name="account-security-revoke",
    ),
    path(
        "account/devices/<str:device_id>/revoke",
        views_security.revoke_device,
        name="account-device-revoke",
    ),
    path("account/session-status", views_security.session_status, name="account-session-status"),
    path(
        "account/session-status/extend",
        views_security.extend_session,
        name="account-session-extend",
    ),
    path(
        "account/session-status/dismiss",
        views_security.dismiss_warning,
        name="account-session-dismiss",
    ),
]
