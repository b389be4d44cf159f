"""Accounts REST API: who am I."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import RoleCode, User


class MeApi(APIView):
    """The signed-in user. The phone follows the masking rule (the owner sees it in full)."""

    class OutputSerializer(serializers.Serializer):
        class RegionSerializer(serializers.Serializer):
            code = serializers.CharField()
            name = serializers.CharField()
            level = serializers.CharField()

        id = serializers.IntegerField()
        username = serializers.CharField()
        display_name = serializers.CharField()
        phone = serializers.CharField()
        phone_masked = serializers.CharField()
        roles = serializers.ListField(child=serializers.ChoiceField(choices=RoleCode.choices))
        is_portal_admin = serializers.BooleanField()
        department = serializers.CharField()
        scope_region = RegionSerializer(allow_null=True)
        language = serializers.CharField()

    @extend_schema(operation_id="me_retrieve", responses=OutputSerializer, tags=["accounts"])
    def get(self, request: Request) -> Response:
        user: User = request.user
        region = user.scope_region
        data = {
            "id": user.pk,
            "username": user.username,
            "display_name": str(user),
            "phone": user.phone_for(request.user),
            "phone_masked": user.masked_phone,
            "roles": sorted(user.role_codes),
            "is_portal_admin": user.is_portal_admin,
            "department": user.department,
            "scope_region": (
                {"code": region.code, "name": region.name, "level": region.level}
                if region is not None
                else None
            ),
            "language": getattr(request, "LANGUAGE_CODE", ""),
        }
        return Response(self.OutputSerializer(data).data)
