"""REST API of tasks from above (/api/v1/tasks/...): one class per operation, serializers with
field errors (400), the same scope and masking as the pages (assignments.selectors). Evidence
files go up as multipart; the signature as a PNG data URL; files come down only through the
scoped pages (evidence, attachment)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assignments import policies, selectors, services
from assignments.models import (
    Assignment,
    AssignmentState,
    DeliveryOutcome,
    FieldType,
    Task,
)
from core.exceptions import PermissionDeniedError

TAGS = ["tasks"]


class TaskKindOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    is_service_of_documents = serializers.BooleanField()


class TaskFormFieldSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    label = serializers.CharField(max_length=60)
    type = serializers.ChoiceField(choices=FieldType.choices, default=FieldType.TEXT)
    required = serializers.BooleanField(default=False)
    choices = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, default=list
    )


class TaskListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.CharField(source="kind.code")
    office = serializers.CharField()
    deadline = serializers.DateTimeField()
    campaign_id = serializers.IntegerField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class TaskAssignmentBriefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(source="task.title")
    kind = serializers.CharField(source="task.kind.code")
    cell = serializers.CharField(source="cell.name", allow_null=True, default=None)
    worker = serializers.CharField(allow_null=True, default=None)
    state = serializers.ChoiceField(choices=AssignmentState.choices)
    due_at = serializers.DateTimeField()
    done_at = serializers.DateTimeField(allow_null=True)
    ever_overdue = serializers.BooleanField()


class TaskDetailOutput(TaskListOutput):
    instructions = serializers.CharField()
    requires_photo = serializers.BooleanField()
    requires_signature = serializers.BooleanField()
    requires_gps = serializers.BooleanField()
    form_fields = TaskFormFieldSerializer(many=True)
    assignments = serializers.SerializerMethodField()

    @extend_schema_field(TaskAssignmentBriefOutput(many=True))
    def get_assignments(self, task: Task) -> list:
        return TaskAssignmentBriefOutput(
            task.assignments.select_related("cell", "worker").order_by("id"), many=True
        ).data


class TaskPageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = TaskListOutput(many=True)


class TaskAddresseeOutput(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()
    id_number = serializers.CharField()
    address = serializers.CharField()
    masked = serializers.BooleanField(
        help_text="True unless the viewer is the issuer, the office's managers or the worker."
    )


class TaskServiceOutput(serializers.Serializer):
    document_title = serializers.CharField()
    case_number = serializers.CharField()
    authority = serializers.CharField()
    addressee_person = serializers.IntegerField(source="addressee_person_id", allow_null=True)
    addressee_home = serializers.IntegerField(source="addressee_home_id", allow_null=True)
    addressee_building = serializers.IntegerField(source="addressee_building_id", allow_null=True)


class TaskEventOutput(serializers.Serializer):
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    label = serializers.CharField(source="action_label")
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    note = serializers.CharField()


class TaskAssignmentOutput(TaskAssignmentBriefOutput):
    task = TaskListOutput()
    instructions = serializers.CharField(source="task.instructions")
    requires_photo = serializers.BooleanField(source="task.requires_photo")
    requires_signature = serializers.BooleanField(source="task.requires_signature")
    requires_gps = serializers.BooleanField(source="task.requires_gps")
    form_fields = TaskFormFieldSerializer(many=True, source="task.form_fields")
    accepted_at = serializers.DateTimeField(allow_null=True)
    result_note = serializers.CharField()
    form_answers = serializers.DictField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    has_photo = serializers.SerializerMethodField()
    has_signature = serializers.SerializerMethodField()
    delivery_outcome = serializers.CharField()
    served_at = serializers.DateTimeField(allow_null=True)
    served_place = serializers.CharField()
    not_signed_reason = serializers.CharField()
    return_reason = serializers.CharField()
    escalation_level = serializers.IntegerField()
    service = serializers.SerializerMethodField()
    addressee = serializers.SerializerMethodField()
    events = TaskEventOutput(many=True)

    def get_has_photo(self, assignment: Assignment) -> bool:
        return bool(assignment.photo)

    def get_has_signature(self, assignment: Assignment) -> bool:
        return bool(assignment.signature)

    @extend_schema_field(TaskServiceOutput(allow_null=True))
    def get_service(self, assignment: Assignment) -> dict | None:
        service = getattr(assignment.task, "service", None)
        return TaskServiceOutput(service).data if service is not None else None

    @extend_schema_field(TaskAddresseeOutput(allow_null=True))
    def get_addressee(self, assignment: Assignment) -> dict | None:
        addressee = selectors.addressee_for_viewer(assignment, self.context["user"])
        return TaskAddresseeOutput(addressee).data if addressee is not None else None


def _assignment_data(assignment: Assignment, user) -> dict:
    fresh = selectors.assignment_get_for_user(user=user, assignment_id=assignment.pk)
    return TaskAssignmentOutput(fresh, context={"user": user}).data


class TaskKindListApi(APIView):
    @extend_schema(operation_id="tasks_kinds", tags=TAGS, responses=TaskKindOutput(many=True))
    def get(self, request: Request) -> Response:
        """The active kinds of task (admin-editable)."""
        return Response(TaskKindOutput(selectors.kinds_active(), many=True).data)


class TaskListApi(APIView):
    @extend_schema(operation_id="tasks_list", tags=TAGS, responses=TaskPageOutput)
    def get(self, request: Request) -> Response:
        """The tasks of the user's office (issuer, dispatchers and supervisors of its region,
        explicit issuers of that region)."""
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.tasks_for_office(request.user), request, view=self
        )
        return paginator.get_paginated_response(TaskListOutput(page, many=True).data)


class TaskIssueApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class TaskIssueInput(serializers.Serializer):
        kind = serializers.IntegerField()
        title = serializers.CharField(max_length=120)
        instructions = serializers.CharField()
        deadline = serializers.DateTimeField(required=False, allow_null=True)
        campaign = serializers.IntegerField(required=False, allow_null=True)
        cells = serializers.ListField(
            child=serializers.IntegerField(), required=False, default=list
        )
        communities = serializers.ListField(
            child=serializers.IntegerField(), required=False, default=list
        )
        workers = serializers.ListField(
            child=serializers.IntegerField(), required=False, default=list
        )
        requires_photo = serializers.BooleanField(required=False, default=False)
        requires_signature = serializers.BooleanField(required=False, default=False)
        requires_gps = serializers.BooleanField(required=False, default=False)
        form_fields = TaskFormFieldSerializer(many=True, required=False, default=list)
        attachments = serializers.ListField(
            child=serializers.FileField(), required=False, default=list, max_length=5
        )
        document_title = serializers.CharField(max_length=120, required=False, default="")
        case_number = serializers.CharField(
            max_length=64, required=False, default="", allow_blank=True
        )
        authority = serializers.CharField(
            max_length=64, required=False, default="", allow_blank=True
        )
        addressee_name = serializers.CharField(max_length=64, required=False, default="")
        addressee_phone = serializers.CharField(
            max_length=11, required=False, default="", allow_blank=True
        )
        addressee_id_number = serializers.CharField(
            max_length=18, required=False, default="", allow_blank=True
        )
        addressee_address = serializers.CharField(max_length=200, required=False, default="")
        addressee_person = serializers.IntegerField(
            required=False, allow_null=True, help_text="A registry person (id), in your region."
        )
        addressee_home = serializers.IntegerField(
            required=False, allow_null=True, help_text="A registry home (id), in your region."
        )
        addressee_building = serializers.IntegerField(
            required=False, allow_null=True, help_text="A registry building (id), in your region."
        )

    @extend_schema(
        operation_id="tasks_issue",
        tags=TAGS,
        request=TaskIssueInput,
        responses={201: TaskDetailOutput},
    )
    def post(self, request: Request) -> Response:
        """Issue a task (dispatchers, supervisors, admins into their region; others with an
        issuer grant). A service of documents (its kind says so) goes to one cell or worker
        and needs document_title, addressee_name and addressee_address."""
        if not policies.is_issuer(request.user):
            raise PermissionDeniedError("You may not issue tasks.")
        serializer = self.TaskIssueInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        task = services.task_issue(
            issuer=request.user,
            kind_id=data["kind"],
            title=data["title"],
            instructions=data["instructions"],
            deadline=data.get("deadline"),
            cell_ids=data["cells"],
            community_ids=data["communities"],
            worker_ids=data["workers"],
            requires_photo=data["requires_photo"],
            requires_signature=data["requires_signature"],
            requires_gps=data["requires_gps"],
            form_fields=data["form_fields"],
            campaign_id=data.get("campaign"),
            attachments=data["attachments"],
            service=services.ServiceInput(
                document_title=data["document_title"],
                case_number=data["case_number"],
                authority=data["authority"],
                addressee_name=data["addressee_name"],
                addressee_phone=data["addressee_phone"],
                addressee_id_number=data["addressee_id_number"],
                addressee_address=data["addressee_address"],
                addressee_person_id=data.get("addressee_person"),
                addressee_home_id=data.get("addressee_home"),
                addressee_building_id=data.get("addressee_building"),
            ),
        )
        return Response(TaskDetailOutput(task).data, status=status.HTTP_201_CREATED)


class TaskDetailApi(APIView):
    @extend_schema(operation_id="tasks_detail", tags=TAGS, responses=TaskDetailOutput)
    def get(self, request: Request, task_id: int) -> Response:
        task = selectors.task_get_for_user(user=request.user, task_id=task_id)
        return Response(TaskDetailOutput(task).data)


class TaskReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class TaskCancelApi(APIView):
    @extend_schema(
        operation_id="tasks_cancel", tags=TAGS, request=TaskReasonInput, responses=TaskDetailOutput
    )
    def post(self, request: Request, task_id: int) -> Response:
        """Withdraw every open or returned assignment of the task (the issuing office)."""
        serializer = TaskReasonInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.task_cancel(
            task_id=task_id, actor=request.user, reason=serializer.validated_data["reason"]
        )
        task = selectors.task_get_for_user(user=request.user, task_id=task_id)
        return Response(TaskDetailOutput(task).data)


class AssignmentMineApi(APIView):
    @extend_schema(
        operation_id="tasks_mine", tags=TAGS, responses=TaskAssignmentBriefOutput(many=True)
    )
    def get(self, request: Request) -> Response:
        """我的任务: the user's assignments and their cells' unaccepted ones."""
        return Response(
            TaskAssignmentBriefOutput(
                selectors.assignments_mine(request.user)[:200], many=True
            ).data
        )


class AssignmentDetailApi(APIView):
    @extend_schema(
        operation_id="tasks_assignment_detail", tags=TAGS, responses=TaskAssignmentOutput
    )
    def get(self, request: Request, assignment_id: int) -> Response:
        """One assignment with its timeline; the addressee masked unless the viewer may see it."""
        assignment = selectors.assignment_get_for_user(
            user=request.user, assignment_id=assignment_id
        )
        return Response(TaskAssignmentOutput(assignment, context={"user": request.user}).data)


class AssignmentAcceptApi(APIView):
    @extend_schema(
        operation_id="tasks_assignment_accept",
        tags=TAGS,
        request=None,
        responses=TaskAssignmentOutput,
    )
    def post(self, request: Request, assignment_id: int) -> Response:
        assignment = services.assignment_accept(assignment_id=assignment_id, actor=request.user)
        return Response(_assignment_data(assignment, request.user))


class AssignmentCompleteApi(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    class TaskAssignmentCompleteInput(serializers.Serializer):
        note = serializers.CharField(required=False, default="", allow_blank=True)
        answers = serializers.DictField(required=False, default=dict)
        latitude = serializers.DecimalField(
            max_digits=9, decimal_places=6, required=False, allow_null=True
        )
        longitude = serializers.DecimalField(
            max_digits=9, decimal_places=6, required=False, allow_null=True
        )
        photo = serializers.FileField(required=False, allow_null=True)
        signature = serializers.CharField(
            required=False, default="", allow_blank=True, help_text="A PNG data URL."
        )
        outcome = serializers.ChoiceField(
            choices=DeliveryOutcome.choices, required=False, allow_blank=True, default=""
        )
        served_at = serializers.DateTimeField(required=False, allow_null=True)
        served_place = serializers.CharField(
            max_length=200, required=False, default="", allow_blank=True
        )
        not_signed_reason = serializers.CharField(required=False, default="", allow_blank=True)

    @extend_schema(
        operation_id="tasks_assignment_complete",
        tags=TAGS,
        request={
            "multipart/form-data": TaskAssignmentCompleteInput,
            "application/json": TaskAssignmentCompleteInput,
        },
        responses=TaskAssignmentOutput,
    )
    def post(self, request: Request, assignment_id: int) -> Response:
        """Hand in the result with the evidence the task asks for (checked on the server)."""
        serializer = self.TaskAssignmentCompleteInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        assignment = services.assignment_complete(
            assignment_id=assignment_id,
            actor=request.user,
            evidence=services.Evidence(
                note=data["note"],
                answers=data["answers"],
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
                photo=data.get("photo"),
                signature=data["signature"],
                outcome=data["outcome"],
                served_at=data.get("served_at"),
                served_place=data["served_place"],
                not_signed_reason=data["not_signed_reason"],
            ),
        )
        return Response(_assignment_data(assignment, request.user))


def _reason_api(name: str, service, doc: str):
    class ReasonApi(APIView):
        @extend_schema(
            operation_id=f"tasks_assignment_{name}",
            tags=TAGS,
            request=TaskReasonInput,
            responses=TaskAssignmentOutput,
            description=doc,
        )
        def post(self, request: Request, assignment_id: int) -> Response:
            serializer = TaskReasonInput(data=request.data)
            serializer.is_valid(raise_exception=True)
            assignment = service(
                assignment_id=assignment_id,
                actor=request.user,
                reason=serializer.validated_data["reason"],
            )
            return Response(_assignment_data(assignment, request.user))

    ReasonApi.__name__ = ReasonApi.__qualname__ = f"Assignment{name.title()}Api"
    return ReasonApi


AssignmentReturnApi = _reason_api(
    "return", services.assignment_return, "The worker gives the task back with a reason."
)
AssignmentCancelApi = _reason_api(
    "cancel", services.assignment_cancel, "The issuing office withdraws the assignment."
)
AssignmentReopenApi = _reason_api(
    "reopen", services.assignment_reopen, "The issuing office sends a done one back for rework."
)


class AssignmentReassignApi(APIView):
    class TaskAssignmentReassignInput(serializers.Serializer):
        worker = serializers.IntegerField()

    @extend_schema(
        operation_id="tasks_assignment_reassign",
        tags=TAGS,
        request=TaskAssignmentReassignInput,
        responses=TaskAssignmentOutput,
    )
    def post(self, request: Request, assignment_id: int) -> Response:
        """The issuing office gives a returned assignment to another grid worker."""
        serializer = self.TaskAssignmentReassignInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = services.assignment_reassign(
            assignment_id=assignment_id,
            actor=request.user,
            worker_id=serializer.validated_data["worker"],
        )
        return Response(_assignment_data(assignment, request.user))


class TaskCampaignOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    office = serializers.CharField()
    region = serializers.CharField(source="region.code")
    deadline = serializers.DateTimeField()


class TaskProgressRowOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    overdue = serializers.IntegerField()
    done_late = serializers.IntegerField()
    open = serializers.IntegerField()
    percent_done = serializers.IntegerField()


class TaskCampaignProgressOutput(TaskCampaignOutput):
    total = TaskProgressRowOutput()
    by_cell = TaskProgressRowOutput(many=True)
    by_worker = TaskProgressRowOutput(many=True)


class CampaignListApi(APIView):
    @extend_schema(
        operation_id="tasks_campaigns", tags=TAGS, responses=TaskCampaignOutput(many=True)
    )
    def get(self, request: Request) -> Response:
        return Response(
            TaskCampaignOutput(selectors.campaigns_for_user(request.user)[:200], many=True).data
        )


class CampaignCreateApi(APIView):
    class TaskCampaignCreateInput(serializers.Serializer):
        title = serializers.CharField(max_length=120)
        description = serializers.CharField(required=False, default="", allow_blank=True)
        region = serializers.IntegerField()
        deadline = serializers.DateTimeField()

    @extend_schema(
        operation_id="tasks_campaign_create",
        tags=TAGS,
        request=TaskCampaignCreateInput,
        responses={201: TaskCampaignOutput},
    )
    def post(self, request: Request) -> Response:
        serializer = self.TaskCampaignCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        campaign = services.campaign_create(
            actor=request.user,
            title=data["title"],
            description=data["description"],
            region_id=data["region"],
            deadline=data["deadline"],
        )
        return Response(TaskCampaignOutput(campaign).data, status=status.HTTP_201_CREATED)


class CampaignProgressApi(APIView):
    @extend_schema(
        operation_id="tasks_campaign_progress", tags=TAGS, responses=TaskCampaignProgressOutput
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        """The progress board: done / overdue / open per cell and per worker."""
        campaign = selectors.campaign_get_for_user(user=request.user, campaign_id=campaign_id)
        progress = selectors.campaign_progress(campaign)
        data = dict(TaskCampaignOutput(campaign).data)
        data.update(
            total=TaskProgressRowOutput(progress["total"]).data,
            by_cell=TaskProgressRowOutput(progress["by_cell"], many=True).data,
            by_worker=TaskProgressRowOutput(progress["by_worker"], many=True).data,
        )
        return Response(data)
