from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.backends import lockout_username
from accounts.forms import LoginForm
from core.ratelimit import client_ip, rate_hit, rate_peek, with_retry_after
from core.services import notifications_mark_read


class LoginView(auth_views.LoginView):
    """Sign-in. Failed attempts are limited per client address (one address spraying many
    accounts) and per account (one account tried from many addresses), on top of django-axes'
    lockout of one account from one address (docs/reliability.md, Hardening)."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def _limits(self, request: HttpRequest) -> list[tuple[str, str, str]]:
        username = lockout_username(request, None) or ""
        limits = [("login-ip", client_ip(request), settings.LOGIN_FAILURES_PER_IP)]
        if username:
            limits.append(("login-user", username.lower(), settings.LOGIN_FAILURES_PER_USERNAME))
        return limits

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        for scope, ident, rate in self._limits(request):
            state = rate_peek(scope, ident, rate)
            if state.limited:
                # An unbound form: a bound one would authenticate while validating.
                form = self.get_form_class()(
                    request, initial={"username": request.POST.get("username", "")}
                )
                form.cleaned_data = {}
                form.add_error(None, _("Too many failed sign-ins. Try again later."))
                response = self.render_to_response(self.get_context_data(form=form))
                return with_retry_after(response, state)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        for scope, ident, rate in self._limits(self.request):
            rate_hit(scope, ident, rate)
        return super().form_invalid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        from django.contrib import messages
        from django.utils.translation import gettext as _

        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed."))
        return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    from accounts.policy import two_factor_required
    from accounts.services import may_administer_security, user_has_second_factor
    from accounts.sessions import sessions_active

    user = request.user
    return render(
        request,
        "accounts/profile.html",
        {
            "profile_user": user,
            "sessions": sessions_active(user_id=user.pk, current_key=request.session.session_key),
            "has_device": user_has_second_factor(user),
            "two_factor_required": two_factor_required(user),
            "security_admin": may_administer_security(user),
        },
    )


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    notifications = request.user.notifications.all()[:100]
    return render(request, "accounts/inbox.html", {"notifications": notifications})


@login_required
@require_POST
def inbox_mark_read(request: HttpRequest) -> HttpResponse:
    notifications_mark_read(user_id=request.user.pk)
    return redirect("accounts:inbox")
