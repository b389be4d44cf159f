"""Pages of the residents' front door (mounted under /residents/; the public home is `/`)."""

from django.urls import path

from residents import views

app_name = "residents"

urlpatterns = [
    path("sign-up/", views.sign_up, name="sign_up"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("privacy/", views.privacy_notice, name="privacy"),
    path("mine/", views.mine, name="mine"),
    path("mine/claim/", views.claim, name="claim"),
    path("mine/data/", views.my_data, name="my_data"),
    path("mine/data.json", views.my_data, {"kind": "json"}, name="my_data_json"),
    path("mine/data.xlsx", views.my_data, {"kind": "xlsx"}, name="my_data_xlsx"),
    path("mine/close/", views.close_account, name="close_account"),
    path("reports/<str:public_id>/", views.report, name="report"),
    path("reports/<str:public_id>/follow/", views.follow, name="follow"),
    path("results/", views.results, name="results"),
    path("results/<str:public_id>/", views.result, name="result"),
    path("photos/<int:pk>/", views.public_photo, name="public_photo"),
]
