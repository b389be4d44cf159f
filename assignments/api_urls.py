"""REST API routes of assignments (tasks from above), mounted under /api/v1/."""

from django.urls import path

from assignments import apis

urlpatterns = [
    path("tasks/", apis.TaskListApi.as_view(), name="api-tasks"),
    path("tasks/issue/", apis.TaskIssueApi.as_view(), name="api-tasks-issue"),
    path("tasks/kinds/", apis.TaskKindListApi.as_view(), name="api-tasks-kinds"),
    path("tasks/mine/", apis.AssignmentMineApi.as_view(), name="api-tasks-mine"),
    path("tasks/<int:task_id>/", apis.TaskDetailApi.as_view(), name="api-task-detail"),
    path("tasks/<int:task_id>/cancel/", apis.TaskCancelApi.as_view(), name="api-task-cancel"),
    path(
        "tasks/assignments/<int:assignment_id>/",
        apis.AssignmentDetailApi.as_view(),
        name="api-task-assignment",
    ),
    *[
        path(
            f"tasks/assignments/<int:assignment_id>/{action}/",
            view.as_view(),
            name=f"api-task-assignment-{action}",
        )
        for action, view in {
            "accept": apis.AssignmentAcceptApi,
            "complete": apis.AssignmentCompleteApi,
            "return": apis.AssignmentReturnApi,
            "reassign": apis.AssignmentReassignApi,
            "cancel": apis.AssignmentCancelApi,
            "reopen": apis.AssignmentReopenApi,
        }.items()
    ],
    path("tasks/campaigns/", apis.CampaignListApi.as_view(), name="api-task-campaigns"),
    path("tasks/campaigns/new/", apis.CampaignCreateApi.as_view(), name="api-task-campaign-create"),
    path(
        "tasks/campaigns/<int:campaign_id>/",
        apis.CampaignProgressApi.as_view(),
        name="api-task-campaign",
    ),
]
