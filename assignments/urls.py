"""Pages of tasks from above, mounted under /tasks/."""

from django.urls import path

from assignments import views

app_name = "assignments"

urlpatterns = [
    path("", views.home, name="home"),
    path("issued/", views.issued, name="issued"),
    path("new/", views.task_new, name="task_new"),
    path("<int:pk>/", views.task_detail, name="task"),
    path("<int:pk>/cancel/", views.task_cancel, name="task_cancel"),
    path("a/<int:pk>/", views.assignment_detail, name="assignment"),
    path("a/<int:pk>/receipt/", views.receipt, name="receipt"),
    path("a/<int:pk>/evidence/<str:kind>/", views.evidence, name="evidence"),
    *[
        path(
            f"a/<int:pk>/{action}/",
            views.assignment_action,
            {"action": action},
            name=f"assignment_{action}",
        )
        for action in ("accept", "complete", "return", "reassign", "cancel", "reopen")
    ],
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/export.xlsx", views.campaign_export, name="campaign_export"),
]
