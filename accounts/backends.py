from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q


def _user_for_identifier(identifier: str):
    user_model = get_user_model()
    return user_model.objects.filter(Q(username=identifier) | Q(phone=identifier)).first()


class PhoneOrUsernameBackend(ModelBackend):
    """Sign in with the username or the mobile phone number."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = _user_for_identifier(username.strip())
        if user is None:
            get_user_model()().set_password(password)  # same cost as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def lockout_username(request, credentials: dict | None) -> str | None:
    """django-axes counts failures per account: a phone number typed at the login form counts
    against the account it belongs to, so the phone and the username share one failure budget."""
    if credentials:
        identifier = credentials.get("username")
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        identifier = data.get("username")
    if not identifier:
        return identifier
    identifier = identifier.strip()
    user = _user_for_identifier(identifier)
    return user.username if user is not None else identifier
