"""REST API of the residents' front door (mounted under /api/v1/residents/): one class per
operation; every write calls one service, whose ApplicationError becomes the JSON error of
core.api.exception_handler (400 with field messages, 404, 409; 429 for too many codes)."""

from __future__ import annotations

from django.contrib.auth import login
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer
from core.ratelimit import client_ip
from incidents.models import Category
from incidents.services.follows import incident_follow
from residents import rights, sections, selectors, services
from residents.city_figures import city_figures
from residents.models import CodePurpose

TAGS = ["residents"]
BACKEND = "accounts.backends.PhoneOrUsernameBackend"


def _throttled(exc: services.TooManyRequests) -> exceptions.Throttled:
    return exceptions.Throttled(wait=exc.retry_after, detail=exc.message)


class PublicIncidentSerializer(serializers.Serializer):
    public_id = serializers.CharField()
    category = serializers.CharField()
    area = serializers.CharField(help_text="the community's name")
    text = serializers.CharField(help_text="scrubbed of phones and ID numbers")
    state = serializers.CharField()
    reported_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    result = serializers.CharField(help_text="the result staff wrote for the public")
    rating = serializers.IntegerField(allow_null=True)
    followers = serializers.IntegerField()
    distance_m = serializers.IntegerField(allow_null=True)
    lat = serializers.FloatField(allow_null=True, help_text="only where the place may be shown")
    lng = serializers.FloatField(allow_null=True)
    photos = serializers.SerializerMethodField()
    follow_url = serializers.SerializerMethodField()

    def get_photos(self, obj) -> list[str]:
        return [reverse("residents:public_photo", args=[pk]) for pk in obj.photo_ids]

    def get_follow_url(self, obj) -> str:
        return reverse("residents:follow", args=[obj.public_id])


class CityFiguresApi(APIView):
    """This month's city figures (the public home): no personal data."""

    permission_classes = [AllowAny]

    @extend_schema(
        tags=TAGS,
        responses={
            200: inline_serializer(
                "CityFigures",
                {
                    "received": serializers.IntegerField(),
                    "closed": serializers.IntegerField(),
                    "on_time_rate": serializers.FloatField(allow_null=True),
                    "satisfaction_rate": serializers.FloatField(allow_null=True),
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        figures = city_figures()
        if figures is None:
            return Response(
                {"received": 0, "closed": 0, "on_time_rate": None, "satisfaction_rate": None}
            )
        return Response(figures.__dict__)


class CodeSendApi(APIView):
    """Send a 6-digit SMS code (sign-up, sign-in, claim). 202 when sent; 400 with field
    messages (phone, captcha: once several codes were sent from this address today, the
    CAPTCHA's key and answer must come too); 429 over the limits per phone or address."""

    permission_classes = [AllowAny]
    throttle_classes: list = []

    class CodeSendInput(serializers.Serializer):
        phone = serializers.CharField(max_length=20)
        purpose = serializers.ChoiceField(choices=CodePurpose.choices)
        captcha_key = serializers.CharField(required=False, allow_blank=True, default="")
        captcha_answer = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        tags=TAGS,
        request=CodeSendInput,
        responses={
            202: inline_serializer("CodeSent", {"detail": serializers.CharField()}),
            400: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        data = _valid(self.CodeSendInput, request)
        captcha_ok = _captcha_ok(data["captcha_key"], data["captcha_answer"])
        try:
            services.phone_code_request(
                request=services.CodeRequest(
                    phone=data["phone"], purpose=data["purpose"], client=client_ip(request)
                ),
                captcha_ok=captcha_ok,
            )
        except services.TooManyRequests as exc:
            raise _throttled(exc) from exc
        return Response({"detail": "sent"}, status=status.HTTP_202_ACCEPTED)


def _captcha_ok(key: str, answer: str) -> bool:
    from captcha.models import CaptchaStore

    if not key or not answer:
        return False
    from django.utils import timezone

    # One try per CAPTCHA, right or wrong (as the form field does).
    store = CaptchaStore.objects.filter(hashkey=key, expiration__gt=timezone.now()).first()
    if store is None:
        return False
    store.delete()
    return store.response == answer.strip().lower()


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class AccountSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField(source="display_name")
    home_region = serializers.IntegerField(source="home_region_id", allow_null=True)
    phone_verified_at = serializers.DateTimeField(allow_null=True)


class SignUpApi(APIView):
    """Sign up with phone + SMS code + name + home community + accepted privacy notice
    (password optional); signs in (session). 201 with the account."""

    permission_classes = [AllowAny]

    class SignUpInput(serializers.Serializer):
        phone = serializers.CharField(max_length=20)
        code = serializers.CharField(max_length=6)
        name = serializers.CharField(max_length=64)
        home_region = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
        privacy_accepted = serializers.BooleanField()
        password = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        tags=TAGS,
        request=SignUpInput,
        responses={201: AccountSerializer, 400: ErrorSerializer, 409: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = _valid(self.SignUpInput, request)
        user = services.resident_sign_up(
            phone=data["phone"],
            code=data["code"],
            name=data["name"],
            home_region_id=data["home_region"],
            privacy_accepted=data["privacy_accepted"],
            password=data["password"],
        )
        login(request._request, user, backend=BACKEND)
        return Response(AccountSerializer(user).data, status=status.HTTP_201_CREATED)


class SignInApi(APIView):
    """Sign in with phone + SMS code (session)."""

    permission_classes = [AllowAny]

    class SignInInput(serializers.Serializer):
        phone = serializers.CharField(max_length=20)
        code = serializers.CharField(max_length=6)

    @extend_schema(
        tags=TAGS, request=SignInInput, responses={200: AccountSerializer, 400: ErrorSerializer}
    )
    def post(self, request: Request) -> Response:
        data = _valid(self.SignInInput, request)
        user = services.resident_sign_in(phone=data["phone"], code=data["code"])
        login(request._request, user, backend=BACKEND)
        return Response(AccountSerializer(user).data)


class ResidentItemSerializer(serializers.Serializer):
    kind = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField()
    url = serializers.CharField()
    updated_at = serializers.DateTimeField()
    next_step = serializers.CharField()
    action_url = serializers.CharField()


class MineApi(APIView):
    """我的: the signed-in user's own items by section."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        responses={
            200: inline_serializer(
                "MineSection",
                {
                    "key": serializers.CharField(),
                    "label": serializers.CharField(),
                    "items": ResidentItemSerializer(many=True),
                },
                many=True,
            )
        },
    )
    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "key": section.key,
                    "label": str(section.label),
                    "items": ResidentItemSerializer(items, many=True).data,
                }
                for section, items in sections.sections_for(request.user)
            ]
        )


class ClaimApi(APIView):
    """认领: take over the reports, mediation applications and petitions made with the
    verified phone before the account existed (403 when the phone is not verified)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        request=None,
        responses={
            200: inline_serializer(
                "Claimed",
                {
                    "incidents": serializers.IntegerField(),
                    "mediation": serializers.IntegerField(),
                    "petitions": serializers.IntegerField(),
                },
            ),
            403: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        return Response(rights.resident_claim(user=request.user))


class MyDataApi(APIView):
    """Everything the portal holds about the signed-in user (PIPL Art. 45), as JSON."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=TAGS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        response = Response(rights.resident_data_export(user=request.user))
        response["Cache-Control"] = "no-store"
        return response


class AccountCloseApi(APIView):
    """Close the signed-in resident's account (PIPL Art. 47): type the phone to confirm."""

    permission_classes = [IsAuthenticated]

    class AccountCloseInput(serializers.Serializer):
        confirm_phone = serializers.CharField(max_length=20)

    @extend_schema(
        tags=TAGS,
        request=AccountCloseInput,
        responses={
            200: inline_serializer(
                "AccountClosed",
                {"anonymised": serializers.DictField(child=serializers.IntegerField())},
            ),
            400: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        data = _valid(self.AccountCloseInput, request)
        counts = rights.resident_account_close(
            user=request.user, confirm_phone=data["confirm_phone"]
        )
        from django.contrib.auth import logout

        logout(request._request)
        return Response({"anonymised": counts})


class NearbyApi(APIView):
    """附议: open reports of the category within its radius of the point, from the last N days
    (public text and public photos only). Empty for disputes and personal categories."""

    permission_classes = [AllowAny]

    class NearbyInput(serializers.Serializer):
        category = serializers.CharField(help_text="the category's code")
        lat = serializers.FloatField(min_value=-90, max_value=90)
        lng = serializers.FloatField(min_value=-180, max_value=180)

    @extend_schema(
        tags=TAGS,
        parameters=[
            OpenApiParameter("category", str, required=True),
            OpenApiParameter("lat", float, required=True),
            OpenApiParameter("lng", float, required=True),
        ],
        responses={
            200: inline_serializer(
                "NearbyReports", {"results": PublicIncidentSerializer(many=True)}
            ),
            400: ErrorSerializer,
        },
    )
    def get(self, request: Request) -> Response:
        serializer = self.NearbyInput(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        category = Category.objects.filter(
            code=data["category"], active=True, parent__isnull=False
        ).first()
        if category is None:
            raise exceptions.ValidationError({"category": ["Unknown category."]})
        rows = selectors.incidents_nearby(category=category, lat=data["lat"], lng=data["lng"])
        return Response({"results": PublicIncidentSerializer(rows, many=True).data})


class FollowApi(APIView):
    """这是同一个问题: follow an open report instead of filing a duplicate (201; idempotent)."""

    permission_classes = [IsAuthenticated]

    class FollowInput(serializers.Serializer):
        public_id = serializers.CharField(max_length=16)

    @extend_schema(
        tags=TAGS,
        request=FollowInput,
        responses={
            201: inline_serializer("Followed", {"public_id": serializers.CharField()}),
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        data = _valid(self.FollowInput, request)
        incident_follow(actor=request.user, public_id=data["public_id"])
        return Response({"public_id": data["public_id"]}, status=status.HTTP_201_CREATED)


class ResultListApi(APIView):
    """办理公开: closed reports of the publishable categories, newest first (public text)."""

    permission_classes = [AllowAny]

    @extend_schema(
        tags=TAGS,
        parameters=[OpenApiParameter("category", int, required=False)],
        responses={200: PublicIncidentSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        rows = selectors.results_page(
            category_id=selectors.small_id(request.query_params.get("category", ""))
        )
        return Response(PublicIncidentSerializer(rows, many=True).data)


class ResultDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(tags=TAGS, responses={200: PublicIncidentSerializer, 404: ErrorSerializer})
    def get(self, request: Request, public_id: str) -> Response:
        return Response(PublicIncidentSerializer(selectors.result_get(public_id=public_id)).data)
