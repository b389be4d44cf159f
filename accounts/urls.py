from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import security_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_mark_read, name="inbox_mark_read"),
    # Two-factor sign-in, my sessions; the security administrator's pages (docs/security.md).
    path("two-factor/", security_views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/enrol/", security_views.two_factor_enrol, name="two_factor_enrol"),
    path("two-factor/recovery/", security_views.recovery_codes, name="recovery_codes"),
    path("sessions/end/", security_views.session_end, name="session_end"),
    path("security/users/", security_views.security_users, name="security_users"),
    path("security/users/<int:pk>/", security_views.security_user, name="security_user"),
]
