from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("account", views.account_settings, name="account-settings"),
    path("account/audit", views.audit_log, name="account-audit"),
]
