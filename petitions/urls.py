from django.urls import path

from petitions import views

app_name = "petitions"

urlpatterns = [
    path("", views.home, name="home"),
    path("file/", views.petition_file, name="file"),
    path("mine/", views.petition_mine, name="mine"),
    path("track/", views.petition_track, name="track"),
    path("intake/", views.petition_intake, name="intake"),
    path("list/", views.petition_list, name="list"),
    path("overdue/", views.petition_overdue, name="overdue"),
    path("analysis/", views.petition_analysis, name="analysis"),
    path("analysis/export.xlsx", views.petition_export, name="export"),
    path("<int:pk>/", views.petition_detail, name="detail"),
    path("<int:pk>/actions/<slug:action>/", views.petition_action, name="action"),
    path("<int:pk>/opinions/<slug:kind>/", views.opinion_print, name="opinion_print"),
    path(
        "<int:pk>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
]
