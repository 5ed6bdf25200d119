"""Background work behind the pages that must answer the same whoever asks (forgotten
password, new invitation link): the page only enqueues one of these, whether or not
the account exists, so the response and its timing give nothing away."""

from django.tasks import task
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from schoolgate.accounts.models import User
from schoolgate.accounts.users import (
    RESET_PAUSE,
    password_reset_recently_sent,
    send_password_reset,
    user_for_email,
)


@task()
def send_reset_if_account(email: str) -> str:
    """Email a reset link when `email` is an active account's; otherwise do nothing."""
    user = user_for_email(email)
    if user is None:
        return "no account"
    if password_reset_recently_sent(user.email):
        return "sent recently"
    send_password_reset(user=user)
    return "sent"


@task()
def send_new_link_if_account(uidb64: str) -> str:
    """After an expired or used invitation link: a new invitation to someone who has
    never signed in, or a password reset to someone who has."""
    from schoolgate.accounts.invitations import queue_invitation

    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))), is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return "no account"
    if user.last_login is None:
        if user.invited_at and timezone.now() - user.invited_at < RESET_PAUSE:
            return "sent recently"
        queue_invitation(user=user)
        return "invited"
    if password_reset_recently_sent(user.email):
        return "sent recently"
    send_password_reset(user=user)
    return "reset sent"
