"""REST API routes of volunteers, mounted under /api/v1/."""

from django.urls import path

from volunteers import apis

urlpatterns = [
    path("volunteers/apply/", apis.VolunteerApplyApi.as_view(), name="api-volunteer-apply"),
    path("volunteers/me/", apis.VolunteerMeApi.as_view(), name="api-volunteer-me"),
    path(
        "volunteers/applications/",
        apis.ApplicationListApi.as_view(),
        name="api-volunteer-applications",
    ),
    path(
        "volunteers/applications/<int:volunteer_id>/approve/",
        apis.ApplicationApproveApi.as_view(),
        name="api-volunteer-approve",
    ),
    path(
        "volunteers/applications/<int:volunteer_id>/decline/",
        apis.ApplicationDeclineApi.as_view(),
        name="api-volunteer-decline",
    ),
    path("volunteers/tasks/", apis.TaskListCreateApi.as_view(), name="api-volunteer-tasks"),
    path(
        "volunteers/tasks/<int:task_id>/", apis.TaskDetailApi.as_view(), name="api-volunteer-task"
    ),
    path(
        "volunteers/tasks/<int:task_id>/claim/",
        apis.TaskClaimApi.as_view(),
        name="api-volunteer-task-claim",
    ),
    path("volunteers/claims/", apis.ClaimListApi.as_view(), name="api-volunteer-claims"),
    *[
        path(
            f"volunteers/claims/<int:claim_id>/{name}/",
            view.as_view(),
            name=f"api-volunteer-claim-{name}",
        )
        for name, view in apis.CLAIM_ACTION_APIS.items()
    ],
    path(
        "volunteers/claims/<int:claim_id>/hazard/",
        apis.ClaimHazardApi.as_view(),
        name="api-volunteer-claim-hazard",
    ),
    path("volunteers/records/", apis.RecordListApi.as_view(), name="api-volunteer-records"),
    path(
        "volunteers/records/<int:record_id>/confirm/",
        apis.RecordConfirmApi.as_view(),
        name="api-volunteer-record-confirm",
    ),
    path("volunteers/points/", apis.PointsApi.as_view(), name="api-volunteer-points"),
    path("volunteers/coverage/", apis.CoverageApi.as_view(), name="api-volunteer-coverage"),
]
