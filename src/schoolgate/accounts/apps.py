from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "schoolgate.accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.models.signals import post_migrate

        from schoolgate.accounts import access, roles, sessions, signals
        from schoolgate.mis import access as mis_access

        # The office's approvals of shared emails are part of who may see a pupil.
        mis_access.set_approvals(access.approved_email_keys)
        signals.connect()
        post_migrate.connect(roles.run_after_migrate, dispatch_uid="accounts.builtin_roles")
        user_logged_in.connect(sessions.note_sign_in, dispatch_uid="accounts.note_sign_in")
        user_logged_out.connect(sessions.note_sign_out, dispatch_uid="accounts.note_sign_out")
