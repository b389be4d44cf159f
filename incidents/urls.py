"""Pages of the incident loop (mounted under /incidents/)."""

from django.urls import path

from incidents import views
from incidents.views import follows

app_name = "incidents"

urlpatterns = [
    path("", views.index, name="index"),
    path("report/", views.report, name="report"),
    # The same page without signing in (a link for posters and the public site).
    path("public/report/", views.report, name="report_anonymous"),
    path("report/done/", views.report_done, name="report_done"),
    path("fix-on-spot/", views.fix_on_spot, name="fix_on_spot"),
    path("track/", views.track, name="track"),
    path("track/rate/", views.track_rate, name="track_rate"),
    path("track/resend/", views.track_resend, name="track_resend"),
    path("my-tasks/", views.my_tasks, name="my_tasks"),
    path("mine/", views.my_reports, name="my_reports"),
    path("queue/", views.queue, name="queue"),
    path("queue/rows/", views.queue_rows, name="queue_rows"),
    path("queue/workload/", views.queue_workload, name="queue_workload"),
    path("queue/assign/", views.queue_assign, name="queue_assign"),
    path("overdue/", views.overdue, name="overdue"),
    path("workload/", views.workload, name="workload"),
    path("patrols/", views.patrols, name="patrols"),
    path("patrols/start/", views.patrol_start, name="patrol_start"),
    path("patrols/<int:pk>/", views.patrol_detail, name="patrol_detail"),
    path("patrols/<int:pk>/points/", views.patrol_points, name="patrol_points"),
    path("patrols/<int:pk>/end/", views.patrol_end, name="patrol_end"),
    # Photos are never public files: streamed after a scope check.
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("photos/<int:pk>/thumb/", views.photo, {"thumb": True}, name="photo_thumb"),
    path("<int:pk>/", views.detail, name="detail"),
    # 附议 and 办理公开 (staff): merge a duplicate; the result for the public.
    path("<int:pk>/merge/", follows.merge, name="merge"),
    path("<int:pk>/public-result/", follows.public_result, name="public_result"),
    # One URL per move of the loop, named after the action (incidents:verify, incidents:rate...).
    *[
        path(
            f"<int:pk>/{name.replace('_', '-')}/",
            views.incident_action,
            {"action": name},
            name=name,
        )
        for name in map(str, views.PAGE_ACTIONS)
    ],
]
