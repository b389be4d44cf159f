from django.urls import path

from mediation import views

app_name = "mediation"

urlpatterns = [
    path("", views.home, name="home"),
    path("rooms/", views.rooms, name="rooms"),
    path("rooms/new/", views.room_create, name="room_create"),
    path("rooms/import/", views.room_import, name="room_import"),
    path("rooms/map/", views.room_map, name="room_map"),
    path("rooms/<int:pk>/edit/", views.room_edit, name="room_edit"),
    path("rooms/<int:pk>/active/", views.room_toggle, name="room_toggle"),
    path("rooms/<int:pk>/move/", views.room_move, name="room_move"),
    path("rooms/<int:pk>/mediators/", views.room_mediator_add, name="room_mediator_add"),
    path(
        "rooms/<int:pk>/mediators/<int:user_id>/remove/",
        views.room_mediator_remove,
        name="room_mediator_remove",
    ),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/print/", views.agreement_print, name="agreement_print"),
    path("cases/<int:pk>/<slug:action>/", views.case_action, name="case_action"),
    path("sessions/<int:pk>/<slug:action>/", views.session_action, name="session_action"),
    path("mine/", views.my_cases, name="my_cases"),
    path("apply/", views.apply, name="apply"),
    path("refer/<int:incident_id>/", views.refer, name="refer"),
    path("calendar/", views.calendar, name="calendar"),
    path("stats/", views.stats, name="stats"),
]
