from django.urls import path

from volunteers import views

app_name = "volunteers"

urlpatterns = [
    path("", views.home, name="home"),
    path("apply/", views.apply, name="apply"),
    path("applications/", views.applications, name="applications"),
    path(
        "applications/<int:volunteer_id>/decide/",
        views.application_decide,
        name="application_decide",
    ),
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/new/", views.task_new, name="task_new"),
    path("tasks/<int:task_id>/", views.task_detail, name="task"),
    path("tasks/<int:task_id>/claim/", views.task_claim, name="task_claim"),
    path("tasks/<int:task_id>/cancel/", views.task_cancel, name="task_cancel"),
    path("claims/<int:claim_id>/", views.claim_detail, name="claim"),
    path("claims/<int:claim_id>/check-in/", views.claim_check_in, name="claim_check_in"),
    path("claims/<int:claim_id>/checkpoint/", views.claim_checkpoint, name="claim_checkpoint"),
    path("claims/<int:claim_id>/check-out/", views.claim_check_out, name="claim_check_out"),
    path("claims/<int:claim_id>/withdraw/", views.claim_withdraw, name="claim_withdraw"),
    path("claims/<int:claim_id>/hazard/", views.claim_hazard, name="claim_hazard"),
    path("teams/", views.teams, name="teams"),
    path("teams/<int:team_id>/", views.team_detail, name="team"),
    path("cells/<str:code>/", views.cell_two_plus_n, name="cell"),
    path("posts/", views.posts, name="posts"),
    path("records/", views.records, name="records"),
    path("records/<int:record_id>/confirm/", views.record_confirm, name="record_confirm"),
    path("records/<int:record_id>/correct/", views.record_correct, name="record_correct"),
    path("certificates/issue/", views.certificate_issue, name="certificate_issue"),
    path("certificates/<int:certificate_id>/", views.certificate, name="certificate"),
    path("points/", views.points, name="points"),
    path("points/redeem/<int:volunteer_id>/", views.points_redeem, name="points_redeem"),
    path("supervision/", views.supervision, name="supervision"),
]
