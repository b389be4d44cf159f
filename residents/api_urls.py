"""REST API routes of residents, mounted under /api/v1/."""

from django.urls import path

from residents import apis

urlpatterns = [
    path("residents/figures", apis.CityFiguresApi.as_view(), name="api-residents-figures"),
    path("residents/codes", apis.CodeSendApi.as_view(), name="api-residents-codes"),
    path("residents/sign-up", apis.SignUpApi.as_view(), name="api-residents-sign-up"),
    path("residents/sign-in", apis.SignInApi.as_view(), name="api-residents-sign-in"),
    path("residents/mine", apis.MineApi.as_view(), name="api-residents-mine"),
    path("residents/mine/claim", apis.ClaimApi.as_view(), name="api-residents-claim"),
    path("residents/mine/data", apis.MyDataApi.as_view(), name="api-residents-data"),
    path("residents/mine/close", apis.AccountCloseApi.as_view(), name="api-residents-close"),
    path("residents/nearby", apis.NearbyApi.as_view(), name="api-residents-nearby"),
    path("residents/follows", apis.FollowApi.as_view(), name="api-residents-follows"),
    path("residents/results", apis.ResultListApi.as_view(), name="api-residents-results"),
    path(
        "residents/results/<str:public_id>",
        apis.ResultDetailApi.as_view(),
        name="api-residents-result",
    ),
]
