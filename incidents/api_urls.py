"""REST API routes of incidents, mounted under /api/v1/."""

from django.urls import path

from incidents import apis
from incidents.apis import follows

urlpatterns = [
    path("categories", apis.CategoryListApi.as_view(), name="api-categories"),
    path("incidents", apis.IncidentListCreateApi.as_view(), name="api-incidents"),
    path("incidents/track", apis.IncidentTrackApi.as_view(), name="api-incident-track"),
    path(
        "incidents/track/rate", apis.IncidentTrackRateApi.as_view(), name="api-incident-track-rate"
    ),
    path(
        "incidents/track/resend-code",
        apis.IncidentTrackResendApi.as_view(),
        name="api-incident-track-resend",
    ),
    path("incidents/my-tasks", apis.MyTasksApi.as_view(), name="api-incident-my-tasks"),
    path("incidents/queue", apis.DispatchQueueApi.as_view(), name="api-incident-queue"),
    path("incidents/overdue", apis.OverdueBoardApi.as_view(), name="api-incident-overdue"),
    path("incidents/workload", apis.WorkloadApi.as_view(), name="api-incident-workload"),
    path("incidents/fix-on-spot", apis.FixOnSpotApi.as_view(), name="api-incident-fix-on-spot"),
    path("incidents/<int:pk>", apis.IncidentDetailApi.as_view(), name="api-incident-detail"),
    path("incidents/<int:pk>/merge", follows.IncidentMergeApi.as_view(), name="api-incident-merge"),
    path(
        "incidents/<int:pk>/public-result",
        follows.IncidentPublicResultApi.as_view(),
        name="api-incident-public-result",
    ),
    path("patrols/", apis.PatrolListCreateApi.as_view(), name="api-patrols"),
    path("patrols/<int:pk>/", apis.PatrolDetailApi.as_view(), name="api-patrol-detail"),
    path("patrols/<int:pk>/points/", apis.PatrolPointsApi.as_view(), name="api-patrol-points"),
    path("patrols/<int:pk>/end/", apis.PatrolEndApi.as_view(), name="api-patrol-end"),
    *[
        path(f"incidents/<int:pk>/{segment}", view.as_view(), name=f"api-incident-{segment}")
        for segment, view in apis.MOVE_APIS.items()
    ],
]
