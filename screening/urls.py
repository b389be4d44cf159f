from django.urls import path

from screening import views

app_name = "screening"

urlpatterns = [
    path("", views.dispute_list, name="list"),
    path("new/", views.dispute_new, name="new"),
    path("board/", views.warning_board, name="board"),
    path("reports/", views.reports, name="reports"),
    path("kpis/", views.kpis, name="kpis"),
    path("kpis/ledger.xlsx", views.ledger, name="ledger"),
    path("<int:pk>/", views.dispute_detail, name="detail"),
    path("<int:pk>/actions/<slug:action>/", views.dispute_action, name="action"),
]
