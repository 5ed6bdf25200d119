"""Sign-in and password pages for everyone; the User Manager for staff who manage users."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from schoolgate.accounts import households, lockout, otp, selectors, users
from schoolgate.accounts import pupil_lookup as pupil_lookup_selectors
from schoolgate.accounts.audit import action_words, detail_words, record
from schoolgate.accounts.forms import (
    AuditFilterForm,
    ChangePasswordForm,
    CodeForm,
    ForgotPasswordForm,
    ReasonForm,
    RoleForm,
    RolesForm,
    SetPasswordForm,
    SignInForm,
    StaffAccountsForm,
    UserSearchForm,
)
from schoolgate.accounts.models import User
from schoolgate.accounts.roles import BUILTIN_ROLES
from schoolgate.accounts.tasks import send_new_link_if_account, send_reset_if_account
from schoolgate.accounts.tokens import invitation_token
from schoolgate.core.access import (
    MANAGE_USERS,
    READ_AUDIT,
    SEE_MIS_DATA,
    capability_required,
    public,
    signed_in,
)
from schoolgate.core.context_processors import school_name
from schoolgate.core.emails import normalise_email
from schoolgate.core.ratelimit import Limit, by_address, rate_limited
from schoolgate.mis.models import Pupil

PER_PAGE = 50
BACKEND = "django.contrib.auth.backends.ModelBackend"
MINUTE, HOUR, DAY = 60, 3600, 24 * 3600


def _typed_email(request, **kwargs):
    email = request.POST.get("email", "")
    return normalise_email(email)[:254] if email else None


def _link_account(request, uidb64, **kwargs):
    """The account a new-link request is for, however its id is spelt."""
    from django.utils.http import urlsafe_base64_decode

    try:
        return int(urlsafe_base64_decode(uidb64))
    except (ValueError, TypeError, OverflowError):
        return None  # no account: nothing will be sent


# The limits (docs/accounts.md, Rate limits): generous for a person, even many behind
# one address, and small enough that a flood sends no one a pile of emails.
SIGN_IN_LIMITS = [Limit(by_address, 60, MINUTE, "address")]
LINK_PAGE_LIMITS = [Limit(by_address, 30, 10 * MINUTE, "address")]
FORGOT_PASSWORD_LIMITS = [
    Limit(by_address, 10, HOUR, "address"),
    Limit(_typed_email, 3, HOUR, "email"),
]
NEW_LINK_LIMITS = [
    Limit(by_address, 10, HOUR, "address"),
    Limit(_link_account, 3, DAY, "account"),
]


# Sign-in, sign-out and passwords


class SignInView(auth_views.LoginView):
    template_name = "accounts/sign_in.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        if form.wait:  # too many failures: the wait page, not the form again
            return lockout.locked_out_response(self.request, form.wait)
        return super().form_invalid(form)


sign_in = rate_limited("sign-in", *SIGN_IN_LIMITS)(SignInView.as_view())


class SignOutView(auth_views.LogoutView):
    pass


class _SetPasswordView(auth_views.PasswordResetConfirmView):
    """A link that works once: set a password, then be signed in."""

    form_class = SetPasswordForm
    post_reset_login = True
    post_reset_login_backend = BACKEND
    reset_url_token = "set"
    success_url = reverse_lazy("home")
    audit_action = ""

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        # A deactivated account's old link must not bring it back to life.
        return user if user is not None and user.is_active else None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["uidb64"] = self.kwargs["uidb64"]
        context["sign_in_url"] = reverse("accounts:sign-in")
        return context

    def form_valid(self, form):
        record(action=self.audit_action, subject=self.user.email, actor=self.user)
        lockout.clear(self.user.email)  # the emailed link proved who this is
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been set and you are signed in."))
        return response


class SetPasswordView(_SetPasswordView):
    """From an invitation: the link expires after SCHOOLGATE["INVITATION_DAYS"]."""

    template_name = "accounts/set_password.html"
    token_generator = invitation_token
    title = gettext_lazy("Set your password")
    audit_action = "password.set_from_invitation"


class ResetPasswordView(_SetPasswordView):
    """From a password reset email: the link expires after PASSWORD_RESET_TIMEOUT."""

    template_name = "accounts/reset_password.html"
    token_generator = default_token_generator
    title = gettext_lazy("Choose a new password")
    audit_action = "password.reset"


set_password = rate_limited("set-password", *LINK_PAGE_LIMITS, methods=("GET", "POST"))(
    SetPasswordView.as_view()
)
reset_password = rate_limited("reset-password", *LINK_PAGE_LIMITS, methods=("GET", "POST"))(
    ResetPasswordView.as_view()
)


@public
@require_POST
@rate_limited("new-link", *NEW_LINK_LIMITS)
def new_link(request, uidb64):
    """Ask for a new link after an expired or used one: the same answer for anyone."""
    send_new_link_if_account.enqueue(uidb64)
    return redirect("accounts:new-link-sent")


@public
def new_link_sent(request):
    return render(request, "accounts/new_link_sent.html")


@public
@rate_limited("forgot-password", *FORGOT_PASSWORD_LIMITS)
def forgot_password(request):
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The lookup happens in the background: this page does the same work, and
        # says the same thing, whether or not the address has an account.
        send_reset_if_account.enqueue(form.cleaned_data["email"])
        return redirect("accounts:forgot-password-sent")
    return render(request, "accounts/forgot_password.html", {"form": form})


@public
def forgot_password_sent(request):
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    return render(request, "accounts/forgot_password_sent.html", {"hours": hours})


class ChangePasswordView(auth_views.PasswordChangeView):
    template_name = "accounts/change_password.html"
    form_class = ChangePasswordForm
    success_url = reverse_lazy("accounts:change-password")

    def form_valid(self, form):
        response = super().form_valid(form)
        record(action="password.changed", subject=self.request.user.email, actor=self.request.user)
        messages.success(
            self.request,
            _(
                "Your password has been changed. Anywhere else you were signed in, you are now "
                "signed out."
            ),
        )
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["two_factor"] = otp.confirmed_device(user) is not None
        context["can_set_up_two_factor"] = user.is_staff
        return context


@signed_in
@require_POST
def sign_out_everywhere(request):
    """End all of one's own sessions, this one included."""
    users.sign_out_everywhere(user=request.user, actor=request.user, reason="by themselves")
    logout(request)
    messages.success(request, _("You have been signed out everywhere."))
    return redirect("accounts:sign-in")


# Two-factor authentication


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


@signed_in
def two_factor_set_up(request):
    user = request.user
    if otp.confirmed_device(user) is not None:
        return redirect(f"{reverse('accounts:two-factor')}?next={_next_url(request)}")
    device = otp.pending_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if otp.verify(device, form.cleaned_data["code"]):
            otp.mark_verified(request)
            record(action="two_factor.enrolled", subject=user.email, actor=user)
            messages.success(request, _("Two-factor authentication is set up."))
            return redirect(_next_url(request))
        form.add_error(
            "code",
            _("That code is not right: check the time on your phone and enter the code shown now."),
        )
    uri = otp.provisioning_uri(device, issuer=school_name())
    return render(
        request,
        "accounts/two_factor_set_up.html",
        {
            "form": form,
            "qr_svg": otp.qr_svg(uri),
            "secret": " ".join(device.secret[i : i + 4] for i in range(0, len(device.secret), 4)),
            "next": _next_url(request),
            "required": settings.STAFF_REQUIRE_2FA and user.is_staff,
        },
    )


@signed_in
def two_factor(request):
    user = request.user
    device = otp.confirmed_device(user)
    if device is None:
        return redirect(f"{reverse('accounts:two-factor-set-up')}?next={_next_url(request)}")
    if otp.is_verified(request):
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if otp.verify(device, form.cleaned_data["code"]):
            otp.mark_verified(request)
            return redirect(_next_url(request))
        if otp.is_locked(device):
            record(action="two_factor.locked", subject=user.email, actor=user)
            logout(request)
            return lockout.locked_out_response(request)
        form.add_error("code", _("That code is not right. Enter the code shown now."))
    return render(request, "accounts/two_factor.html", {"form": form, "next": _next_url(request)})


# The User Manager


@capability_required(MANAGE_USERS)
def user_list(request):
    form = UserSearchForm(request.GET or None)
    found = selectors.search_users(**form.filters())
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    counts = selectors.visible_pupil_counts(page.object_list)
    rows = [{"user": user, "pupils": counts[user.pk]} for user in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/users.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )


@capability_required(MANAGE_USERS)
def user_detail(request, user_id):
    person = get_object_or_404(User, pk=user_id)
    roles_form = RolesForm(initial={"roles": list(person.groups.all())})
    return _user_page(request, person, roles_form=roles_form)


def _user_page(request, person, *, roles_form, status=200):
    return render(
        request,
        "accounts/user_detail.html",
        {
            "person": person,
            "roles_form": roles_form,
            "reason_form": ReasonForm(prefix="account"),
            "pupils": selectors.visible_pupil_counts([person])[person.pk],
            "locked_out": lockout.is_locked_out(person.email),
            "sessions": person.signed_in_sessions.count(),
            "two_factor": otp.confirmed_device(person) is not None,
            "history": selectors.audit_entries(subject=person.email)[:10]
            if request.user.has_perm(READ_AUDIT)
            else None,
            "is_self": person.pk == request.user.pk,
        },
        status=status,
    )


@require_POST
@capability_required(MANAGE_USERS)
def user_roles(request, user_id):
    person = get_object_or_404(User, pk=user_id)
    form = RolesForm(request.POST)
    if form.is_valid():
        try:
            added, removed = users.set_roles(
                user=person,
                roles=form.cleaned_data["roles"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error("roles", error)
        else:
            if added or removed:
                messages.success(request, _("Roles saved for %(email)s.") % {"email": person.email})
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect("accounts:user", user_id=person.pk)
    return _user_page(request, person, roles_form=form, status=400)


def _user_action(action, success):
    """A POST-only admin action on one user, with an optional reason."""

    @require_POST
    @capability_required(MANAGE_USERS)
    def view(request, user_id):
        person = get_object_or_404(User, pk=user_id)
        form = ReasonForm(request.POST, prefix="account")
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        try:
            action(user=person, actor=request.user, reason=reason)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, success % {"email": person.email})
        return redirect("accounts:user", user_id=person.pk)

    return view


user_deactivate = _user_action(
    users.deactivate_user,
    gettext_lazy("%(email)s is deactivated and has been signed out everywhere."),
)
user_reactivate = _user_action(users.reactivate_user, gettext_lazy("%(email)s can sign in again."))
user_password_reset = _user_action(
    users.send_password_reset,
    gettext_lazy("An email with a link to choose a new password is on its way to %(email)s."),
)
user_sign_out_everywhere = _user_action(
    users.sign_out_everywhere, gettext_lazy("%(email)s has been signed out everywhere.")
)
user_unlock = _user_action(
    lambda *, user, actor, reason: users.unlock_user(user=user, actor=actor),
    gettext_lazy("%(email)s can try to sign in again now."),
)
user_reset_two_factor = _user_action(
    lambda *, user, actor, reason: users.reset_two_factor(user=user, actor=actor),
    gettext_lazy("%(email)s will set up two-factor authentication again at next sign-in."),
)


@capability_required(MANAGE_USERS)
def role_list(request):
    return render(
        request,
        "accounts/roles.html",
        {"roles": selectors.roles_with_member_counts(), "builtin": BUILTIN_ROLES},
    )


@capability_required(MANAGE_USERS)
def role_create(request):
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = users.create_role(
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("The role “%(title)s” was created.") % {"title": group.name}
            )
            return redirect("accounts:role", role_id=group.pk)
    return render(request, "accounts/role_create.html", {"form": form})


@capability_required(MANAGE_USERS)
def role_detail(request, role_id):
    group = get_object_or_404(Group.objects.select_related("profile"), pk=role_id)
    members = Paginator(selectors.role_members(group), PER_PAGE).get_page(request.GET.get("page"))
    profile = getattr(group, "profile", None)
    return render(
        request,
        "accounts/role_detail.html",
        {
            "role": group,
            "profile": profile,
            "members": members,
            "permissions": group.permissions.select_related("content_type").order_by(
                "content_type__app_label", "codename"
            ),
        },
    )


@capability_required(MANAGE_USERS)
def staff_accounts(request):
    form = StaffAccountsForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = users.create_staff_accounts(actor=request.user, role=form.cleaned_data["role"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "%(created)s staff accounts created and invited; %(added)s existing accounts "
                    "given the role."
                )
                % {"created": result.created, "added": result.role_added},
            )
            return redirect("accounts:staff-accounts")
    preview = None
    if form.fields["role"].queryset.exists():
        role = form.fields["role"].queryset.filter(pk=form["role"].value()).first()
        preview = users.create_staff_accounts(actor=request.user, role=role, dry_run=True)
    return render(request, "accounts/staff_accounts.html", {"form": form, "preview": preview})


@capability_required(READ_AUDIT)
def audit_log(request):
    form = AuditFilterForm(request.GET or None, actions=selectors.audit_actions())
    filters = form.cleaned_data if form.is_valid() else {}
    entries = selectors.audit_entries(
        subject=filters.get("subject", ""), action=filters.get("action", "")
    )
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.action_words = action_words(entry.action)
        entry.detail_words = detail_words(entry.detail)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "accounts/audit.html", {"form": form, "page": page, "query": query.urlencode()}
    )


# Emails shared across families: the office's decision (accounts.households)


@capability_required(MANAGE_USERS)
def shared_emails(request):
    """Approvals given, whether each still holds, and the form to approve one address."""
    email_key = (request.GET.get("email") or request.POST.get("email") or "").strip()
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action")
        if action == "withdraw":
            households.withdraw_approval(
                email_key=email_key, actor=request.user, reason=form.cleaned_data["reason"]
            )
            messages.success(
                request,
                _("%(email)s is held back again: nobody gets its account.") % {"email": email_key},
            )
            return redirect("accounts:shared-emails")
        try:
            households.approve_shared_email(
                email_key=email_key, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except households.NotHeldBack as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("One account for %(email)s is approved. It sees the pupils listed.")
                % {"email": email_key},
            )
        return redirect("accounts:shared-emails")
    return render(
        request,
        "accounts/shared_emails.html",
        {
            "section": "shared",
            "form": form,
            "candidate": selectors.shared_email_detail(email_key) if email_key else None,
            "approvals": selectors.shared_email_approvals(),
        },
    )


@capability_required(SEE_MIS_DATA)
def pupil_lookup(request):
    """Find a pupil by name or UPN; one pupil's contacts, accounts and sign-ins."""
    query = (request.GET.get("q") or "").strip()
    pupil = None
    if request.GET.get("pupil"):
        try:
            pupil = Pupil.objects.get(pk=int(request.GET["pupil"]))
        except (Pupil.DoesNotExist, ValueError):
            raise Http404 from None
    matches = list(pupil_lookup_selectors.find_pupils(query)) if query and pupil is None else []
    if len(matches) == 1:
        pupil = matches[0]
    return render(
        request,
        "accounts/pupil_lookup.html",
        {
            "query": query,
            "matches": matches,
            "pupil": pupil,
            "contacts": pupil_lookup_selectors.pupil_contacts(pupil) if pupil else [],
        },
    )
