from django.urls import path

from schoolgate.accounts import views
from schoolgate.core.access import audience, public

app_name = "accounts"
urlpatterns = [
    # Everyone
    path("sign-in/", public(views.sign_in), name="sign-in"),
    path("sign-out/", public(views.SignOutView.as_view()), name="sign-out"),
    path("sign-out-everywhere/", views.sign_out_everywhere, name="sign-out-everywhere"),
    path(
        "set-password/<uidb64>/<token>/",
        public(views.set_password),
        name="set-password",
    ),
    path("new-link/sent/", views.new_link_sent, name="new-link-sent"),
    path("new-link/<uidb64>/", views.new_link, name="new-link"),
    path("forgot-password/", views.forgot_password, name="forgot-password"),
    path("forgot-password/sent/", views.forgot_password_sent, name="forgot-password-sent"),
    path(
        "reset-password/<uidb64>/<token>/",
        public(views.reset_password),
        name="reset-password",
    ),
    path(
        "change-password/",
        audience("signed_in")(views.ChangePasswordView.as_view()),
        name="change-password",
    ),
    path("two-factor/", views.two_factor, name="two-factor"),
    path("two-factor/set-up/", views.two_factor_set_up, name="two-factor-set-up"),
    # The User Manager (staff with accounts.manage_users)
    path("users/", views.user_list, name="users"),
    path("users/<int:user_id>/", views.user_detail, name="user"),
    path("users/<int:user_id>/roles/", views.user_roles, name="user-roles"),
    path("users/<int:user_id>/deactivate/", views.user_deactivate, name="user-deactivate"),
    path("users/<int:user_id>/reactivate/", views.user_reactivate, name="user-reactivate"),
    path(
        "users/<int:user_id>/password-reset/",
        views.user_password_reset,
        name="user-password-reset",
    ),
    path(
        "users/<int:user_id>/sign-out-everywhere/",
        views.user_sign_out_everywhere,
        name="user-sign-out-everywhere",
    ),
    path("users/<int:user_id>/unlock/", views.user_unlock, name="user-unlock"),
    path(
        "users/<int:user_id>/reset-two-factor/",
        views.user_reset_two_factor,
        name="user-reset-two-factor",
    ),
    path("roles/", views.role_list, name="roles"),
    path("roles/new/", views.role_create, name="role-create"),
    path("roles/<int:role_id>/", views.role_detail, name="role"),
    path("staff-accounts/", views.staff_accounts, name="staff-accounts"),
    path("audit/", views.audit_log, name="audit"),
    path("shared-emails/", views.shared_emails, name="shared-emails"),
    path("pupils/", views.pupil_lookup, name="pupil-lookup"),
]
