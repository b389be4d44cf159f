"""Every write of the residents app: SMS codes, sign-up and sign-in by code, 认领 (claim), and
the personal-data rights (download, close the account).

Bad input raises core.exceptions (ValidationFailed with field messages, in Chinese through
gettext) before anything is written; a wrong code only counts the try. The code is sent by
residents.tasks.phone_code_send after commit, straight through core.sms's backend (no outbox
row holds it in clear; see residents.models).
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from accounts.models import Role, RoleCode, User
from core.exceptions import ApplicationError, ConflictError, ValidationFailed
from core.ratelimit import rate_hit, rate_peek
from core.transactions import enqueue_on_commit
from grids.models import Region
from residents.models import CodePurpose, PhoneCode, ResidentProfile
from residents.privacy import PRIVACY_NOTICE_VERSION

CODE_LENGTH = 6
CODE_LIFETIME = timedelta(minutes=5)
CODE_MAX_TRIES = 5
PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
# Sends allowed per phone and per client address (core.ratelimit rates), and how many sends from
# one address a day before the CAPTCHA is asked for. Settings override them.
CODE_RATES = (("minute", "1/m"), ("day", "10/d"))
CAPTCHA_AFTER = 3


class TooManyRequests(ApplicationError):
    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class CodeRequest:
    phone: str
    purpose: str
    client: str  # the client's address ("unknown" without one)


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={field: [message]})


def phone_clean(phone: str) -> str:
    value = re.sub(r"[\s-]", "", phone or "")
    if not PHONE_PATTERN.match(value):
        raise _fail("phone", _("Enter an 11-digit mainland mobile number."))
    return value


def _rates() -> tuple[tuple[str, str], ...]:
    return tuple(getattr(settings, "RESIDENT_CODE_RATES", CODE_RATES))


def _captcha_after() -> int:
    return int(getattr(settings, "RESIDENT_CODE_CAPTCHA_AFTER", CAPTCHA_AFTER))


def captcha_required(client: str) -> bool:
    """After several sends from one address today, a CAPTCHA must come with the next."""
    return rate_peek("resident-code-captcha", client, f"{_captcha_after()}/d").limited


def code_hash(code: str) -> str:
    salt = secrets.token_hex(8)
    digest = salted_hmac(f"residents.code.{salt}", code, algorithm="sha256").hexdigest()
    return f"{salt}${digest}"


def _code_matches(stored: str, code: str) -> bool:
    salt, _sep, digest = stored.partition("$")
    expected = salted_hmac(f"residents.code.{salt}", code, algorithm="sha256").hexdigest()
    return hmac.compare_digest(expected, digest)


def _active_resident(phone: str) -> User | None:
    return User.objects.filter(phone=phone, is_active=True, roles__code=RoleCode.RESIDENT).first()


def phone_code_request(*, request: CodeRequest, captcha_ok: bool = False) -> PhoneCode:
    """Send a new code to `request.phone` for `request.purpose`. In order: the phone's form;
    the limits per phone and per address (TooManyRequests, nothing counted); the CAPTCHA once
    required (`captcha_ok`); then the attempt counts against the address (so probing which
    phones have an account spends the address's budget and soon needs the CAPTCHA); then for
    sign-up no account with the phone, for sign-in and claim an active resident with it; then
    the send counts against the phone, the code is stored hashed (and encrypted until sent) and
    residents.tasks.phone_code_send is enqueued on commit. Earlier unused codes stop working."""
    phone = phone_clean(request.phone)
    if request.purpose not in CodePurpose.values:
        raise _fail("purpose", _("Unknown purpose."))
    per_phone = [(f"resident-code-phone-{name}", phone, rate) for name, rate in _rates()]
    per_client = [(f"resident-code-client-{name}", request.client, rate) for name, rate in _rates()]
    for scope, ident, rate in per_phone + per_client:
        state = rate_peek(scope, ident, rate)
        if state.limited:
            raise TooManyRequests(
                _("Too many codes asked for. Try again in %(n)s seconds.")
                % {"n": state.retry_after},
                retry_after=state.retry_after,
            )
    if captcha_required(request.client) and not captcha_ok:
        raise _fail("captcha", _("Type the characters in the picture."))
    for scope, ident, rate in per_client:
        rate_hit(scope, ident, rate)
    rate_hit("resident-code-captcha", request.client, f"{_captcha_after()}/d")
    existing = User.objects.filter(phone=phone).first()
    if request.purpose == CodePurpose.SIGN_UP and existing is not None:
        raise _fail("phone", _("This phone number already has an account: sign in instead."))
    if request.purpose != CodePurpose.SIGN_UP and _active_resident(phone) is None:
        raise _fail("phone", _("No resident account uses this phone number: sign up first."))
    for scope, ident, rate in per_phone:
        rate_hit(scope, ident, rate)
    code = "".join(secrets.choice("0123456789") for _digit in range(CODE_LENGTH))
    now = timezone.now()
    with transaction.atomic():
        PhoneCode.objects.filter(phone=phone, purpose=request.purpose, used_at__isnull=True).update(
            used_at=now, code_pending=""
        )
        item = PhoneCode.objects.create(
            phone=phone,
            purpose=request.purpose,
            code_hash=code_hash(code),
            code_pending=code,
            expires_at=now + CODE_LIFETIME,
        )
        from residents import tasks

        enqueue_on_commit(tasks.phone_code_send, item.pk)
    return item


def phone_code_check(*, phone: str, purpose: str, code: str) -> None:
    """Use the phone's current code for `purpose` (ValidationFailed on the field "code"
    otherwise). A wrong code counts one try, committed on its own; the fifth wrong try ends
    the code. Call it before writing anything else (its own transaction)."""
    code = (code or "").strip()
    if not re.fullmatch(r"\d{6}", code):
        raise _fail("code", _("Enter the 6-digit code from the SMS."))
    now = timezone.now()
    with transaction.atomic():
        item = (
            PhoneCode.objects.select_for_update()
            .filter(phone=phone, purpose=purpose, used_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        if item is None or item.expires_at <= now:
            raise _fail("code", _("The code has expired or was never sent: ask for a new one."))
        if item.attempts >= CODE_MAX_TRIES:
            raise _fail("code", _("Too many wrong codes: ask for a new one."))
        if _code_matches(item.code_hash, code):
            item.used_at = now
            item.code_pending = ""
            item.save(update_fields=["used_at", "code_pending"])
            return
        item.attempts += 1
        if item.attempts >= CODE_MAX_TRIES:
            item.used_at = now
        item.save(update_fields=["attempts", "used_at"])
    if item.attempts >= CODE_MAX_TRIES:
        raise _fail("code", _("Too many wrong codes: ask for a new one."))
    raise _fail(
        "code",
        _("Wrong code. %(n)s tries left.") % {"n": CODE_MAX_TRIES - item.attempts},
    )


def communities() -> list[Region]:
    return list(
        Region.objects.filter(level=Region.Level.COMMUNITY)
        .defer("boundary")
        .select_related("parent")
        .order_by("code")
    )


def resident_sign_up(
    *,
    phone: str,
    code: str,
    name: str,
    home_region_id: int | None,
    privacy_accepted: bool,
    password: str = "",
) -> User:
    """A resident account: phone proven by the code, the name, the home community (a
    community), the privacy notice accepted (its version and the time stored), a password if
    given (else code sign-in only). Every field is checked before the code is used."""
    phone = phone_clean(phone)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 64:
        errors["name"] = [_("Enter your name (at most 64 characters).")]
    region = (
        Region.objects.filter(pk=home_region_id, level=Region.Level.COMMUNITY).first()
        if home_region_id
        else None
    )
    if region is None:
        errors["home_region"] = [_("Choose the community you live in.")]
    if not privacy_accepted:
        errors["privacy_accepted"] = [_("Read and accept the privacy notice to sign up.")]
    if password:
        from django.contrib.auth.password_validation import validate_password
        from django.core.exceptions import ValidationError

        try:
            validate_password(password)
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    if User.objects.filter(phone=phone).exists():
        errors["phone"] = [_("This phone number already has an account: sign in instead.")]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, extra=errors)
    phone_code_check(phone=phone, purpose=CodePurpose.SIGN_UP, code=code)
    now = timezone.now()
    try:
        with transaction.atomic():
            user = User(
                username=f"r{phone}",
                phone=phone,
                display_name=name,
                phone_verified_at=now,
                home_region=region,
            )
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.save()
            role, _created = Role.objects.get_or_create(code=RoleCode.RESIDENT)
            user.roles.add(role)
            ResidentProfile.objects.create(
                user=user, privacy_notice_version=PRIVACY_NOTICE_VERSION, privacy_accepted_at=now
            )
    except IntegrityError as exc:  # the same phone signed up at the same moment
        raise ConflictError(
            _("This phone number already has an account: sign in instead.")
        ) from exc
    return user


def resident_sign_in(*, phone: str, code: str) -> User:
    """The active resident with this phone, once the code is right (sign-in by code)."""
    phone = phone_clean(phone)
    user = _active_resident(phone)
    if user is None:
        raise _fail("phone", _("No resident account uses this phone number: sign up first."))
    phone_code_check(phone=phone, purpose=CodePurpose.SIGN_IN, code=code)
    if user.phone_verified_at is None:
        User.objects.filter(pk=user.pk).update(phone_verified_at=timezone.now())
        user.phone_verified_at = timezone.now()
    return user


def resident_phone_verify(*, user: User, code: str) -> User:
    """A signed-in resident whose phone was never proven proves it with a claim code."""
    if not user.phone:
        raise _fail("code", _("Your account has no phone number."))
    phone_code_check(phone=user.phone, purpose=CodePurpose.CLAIM, code=code)
    user.phone_verified_at = timezone.now()
    user.save(update_fields=["phone_verified_at"])
    return user
