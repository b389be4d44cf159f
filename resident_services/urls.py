"""Pages of resident services, under /services/."""

from django.urls import path

from resident_services import views

app_name = "resident_services"

urlpatterns = [
    path("", views.catalogue, name="home"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("items/<int:pk>/apply/", views.request_new, name="request_new"),
    path("requests/", views.my_requests, name="my_requests"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path(
        "requests/<int:pk>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
    path("requests/<int:pk>/<slug:action>/", views.request_action, name="request_action"),
    path("queue/", views.queue, name="queue"),
    path("consultations/", views.consultations, name="consultations"),
    path("consultations/book/", views.consultation_book, name="consultation_book"),
    path("consultations/mine/", views.consultation_mine, name="consultation_mine"),
    path("consultations/<int:pk>/cancel/", views.consultation_cancel, name="consultation_cancel"),
    path("consultations/hours/", views.hours, name="hours"),
    path("consultations/hours/<int:pk>/withdraw/", views.hours_withdraw, name="hours_withdraw"),
    path("supervision/", views.supervision, name="supervision"),
    path("supervision/export/", views.supervision_export, name="supervision_export"),
]
