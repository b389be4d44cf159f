"""Rooms (admins configure them; everybody lists the active ones) and the rooms CSV import."""

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import NotFoundError, PermissionDeniedError, ValidationFailed
from mediation import rooms as room_admin
from mediation import selectors
from mediation.apis.serializers import (
    RoomOutput,
)
from mediation.models import (
    MediationRoom,
    RoomLevel,
    RoomType,
)

# --- rooms --------------------------------------------------------------------------------


class RoomFilter(django_filters.FilterSet):
    room_type = django_filters.ChoiceFilter(choices=RoomType.choices)
    level = django_filters.ChoiceFilter(choices=RoomLevel.choices)
    active = django_filters.BooleanFilter()
    gold_rated = django_filters.BooleanFilter()
    region = django_filters.CharFilter(
        field_name="region_code", lookup_expr="startswith", label="region code prefix"
    )
    category = django_filters.CharFilter(method="filter_category", label="dispute category code")

    class Meta:
        model = MediationRoom
        fields = ["room_type", "level", "active", "gold_rated", "region", "category"]

    def filter_category(self, queryset, name, value):
        # A room with no category listed takes every dispute.
        from django.db.models import Q

        return queryset.filter(Q(categories__code=value) | Q(categories__isnull=True)).distinct()


class RoomInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    room_type = serializers.CharField()
    level = serializers.CharField()
    region_code = serializers.CharField(max_length=12)
    categories = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    address = serializers.CharField(required=False, allow_blank=True, default="")
    lat = serializers.FloatField(required=False, allow_null=True, default=None)
    lng = serializers.FloatField(required=False, allow_null=True, default=None)
    opening_hours = serializers.CharField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(required=False, allow_blank=True, default="")
    capacity_per_day = serializers.IntegerField(required=False, default=4)
    gold_rated = serializers.BooleanField(required=False, default=False)
    active = serializers.BooleanField(required=False, default=True)
    description = serializers.CharField(required=False, allow_blank=True, default="")


def _room_data(data: dict) -> room_admin.RoomData:
    return room_admin.room_data_clean(
        name=data["name"],
        room_type=data["room_type"],
        level=data["level"],
        region_code=data["region_code"],
        category_codes=data.get("categories", []),
        address=data.get("address", ""),
        lat=data.get("lat"),
        lng=data.get("lng"),
        opening_hours=data.get("opening_hours", ""),
        phone=data.get("phone", ""),
        capacity_per_day=data.get("capacity_per_day", 4),
        gold_rated=data.get("gold_rated", False),
        active=data.get("active", True),
        description=data.get("description", ""),
    )


class RoomListCreateApi(generics.ListAPIView):
    """Mediation rooms (active ones; admins may ask for inactive ones with ?active=false)."""

    serializer_class = RoomOutput
    filterset_class = RoomFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MediationRoom.objects.none()
        return selectors.rooms_list(user=self.request.user, include_inactive=True).filter(
            **({} if self.request.user.is_portal_admin else {"active": True})
        )

    @extend_schema(request=RoomInput, responses={201: RoomOutput})
    def post(self, request):
        serializer = RoomInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not request.user.is_portal_admin:
            raise PermissionDeniedError(_("Only administrators configure mediation rooms."))
        room = room_admin.room_create(
            actor=request.user, data=_room_data(serializer.validated_data)
        )
        return Response(RoomOutput(room).data, status=status.HTTP_201_CREATED)


class RoomDetailApi(APIView):
    @extend_schema(responses=RoomOutput)
    def get(self, request, pk: int):
        room = selectors.room_get(user=request.user, room_id=pk)
        if not room.active and not request.user.is_portal_admin:
            raise NotFoundError(_("Mediation room not found."))
        return Response(RoomOutput(room).data)

    @extend_schema(request=RoomInput, responses=RoomOutput)
    def put(self, request, pk: int):
        return self._update(request, pk, partial=False)

    @extend_schema(request=RoomInput, responses=RoomOutput)
    def patch(self, request, pk: int):
        return self._update(request, pk, partial=True)

    def _update(self, request, pk: int, *, partial: bool) -> Response:
        if not request.user.is_portal_admin:
            raise PermissionDeniedError(_("Only administrators configure mediation rooms."))
        room = selectors.room_get(user=request.user, room_id=pk)
        current = {
            "name": room.name,
            "room_type": room.room_type,
            "level": room.level,
            "region_code": room.region_code,
            "categories": [c.code for c in room.categories.all()],
            "address": room.address,
            "lat": room.lat,
            "lng": room.lng,
            "opening_hours": room.opening_hours,
            "phone": room.phone,
            "capacity_per_day": room.capacity_per_day,
            "gold_rated": room.gold_rated,
            "active": room.active,
            "description": room.description,
        }
        serializer = RoomInput(data={**current, **request.data} if partial else request.data)
        serializer.is_valid(raise_exception=True)
        room = room_admin.room_update(
            actor=request.user, room_id=pk, data=_room_data(serializer.validated_data)
        )
        return Response(RoomOutput(room).data)


class RoomActiveApi(APIView):
    class RoomActiveInput(serializers.Serializer):
        active = serializers.BooleanField()

    Input = RoomActiveInput

    @extend_schema(request=Input, responses=RoomOutput)
    def post(self, request, pk: int):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        room = room_admin.room_set_active(
            actor=request.user, room_id=pk, active=serializer.validated_data["active"]
        )
        return Response(RoomOutput(room).data)


class RoomReorderApi(APIView):
    class RoomReorderInput(serializers.Serializer):
        room_ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)

    Input = RoomReorderInput

    @extend_schema(request=Input, responses=RoomOutput(many=True))
    def post(self, request):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        room_admin.room_reorder(actor=request.user, room_ids=serializer.validated_data["room_ids"])
        rooms = selectors.rooms_list(user=request.user, include_inactive=True)
        return Response(RoomOutput(rooms, many=True).data)


class RoomImportApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class RoomImportInput(serializers.Serializer):
        file = serializers.FileField()

    Input = RoomImportInput

    @extend_schema(
        request={"multipart/form-data": Input},
        responses=inline_serializer(
            "RoomImportResult",
            {"created": serializers.IntegerField(), "updated": serializers.IntegerField()},
        ),
    )
    def post(self, request):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > room_admin.CSV_MAX_BYTES:
            raise ValidationFailed(_("The file is larger than 1 MB."))
        result = room_admin.rooms_import_csv(actor=request.user, content=upload.read())
        return Response({"created": result.created, "updated": result.updated})


class RoomMediatorAddApi(APIView):
    class RoomMediatorAddInput(serializers.Serializer):
        user_id = serializers.IntegerField()
        title = serializers.CharField(required=False, allow_blank=True, default="")
        speciality = serializers.CharField(required=False, allow_blank=True, default="")

    Input = RoomMediatorAddInput

    @extend_schema(request=Input, responses=RoomOutput)
    def post(self, request, pk: int):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        room_admin.room_mediator_add(actor=request.user, room_id=pk, **serializer.validated_data)
        return Response(RoomOutput(MediationRoom.objects.get(pk=pk)).data)


class RoomMediatorRemoveApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk: int, user_id: int):
        room_admin.room_mediator_remove(actor=request.user, room_id=pk, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
