"""REST API routes of mediation, mounted under /api/v1/."""

from django.urls import path

from mediation import apis

urlpatterns = [
    path("mediation/rooms/", apis.RoomListCreateApi.as_view(), name="mediation-rooms"),
    path("mediation/rooms/reorder/", apis.RoomReorderApi.as_view(), name="mediation-room-reorder"),
    path("mediation/rooms/import/", apis.RoomImportApi.as_view(), name="mediation-room-import"),
    path("mediation/rooms/<int:pk>/", apis.RoomDetailApi.as_view(), name="mediation-room"),
    path(
        "mediation/rooms/<int:pk>/active/",
        apis.RoomActiveApi.as_view(),
        name="mediation-room-active",
    ),
    path(
        "mediation/rooms/<int:pk>/mediators/",
        apis.RoomMediatorAddApi.as_view(),
        name="mediation-room-mediators",
    ),
    path(
        "mediation/rooms/<int:pk>/mediators/<int:user_id>/",
        apis.RoomMediatorRemoveApi.as_view(),
        name="mediation-room-mediator",
    ),
    path("mediation/cases/", apis.CaseListCreateApi.as_view(), name="mediation-cases"),
    path("mediation/cases/<int:pk>/", apis.CaseDetailApi.as_view(), name="mediation-case"),
    path("mediation/cases/<int:pk>/accept/", apis.CaseAcceptApi.as_view(), name="mediation-accept"),
    path(
        "mediation/cases/<int:pk>/decline/", apis.CaseDeclineApi.as_view(), name="mediation-decline"
    ),
    path("mediation/cases/<int:pk>/assign/", apis.CaseAssignApi.as_view(), name="mediation-assign"),
    path(
        "mediation/cases/<int:pk>/sessions/",
        apis.CaseScheduleApi.as_view(),
        name="mediation-schedule",
    ),
    path(
        "mediation/cases/<int:pk>/agreement/",
        apis.CaseAgreementApi.as_view(),
        name="mediation-agreement",
    ),
    path("mediation/cases/<int:pk>/signatures/", apis.CaseSignApi.as_view(), name="mediation-sign"),
    path("mediation/cases/<int:pk>/seal/", apis.CaseSealApi.as_view(), name="mediation-seal"),
    path("mediation/cases/<int:pk>/extend/", apis.CaseExtendApi.as_view(), name="mediation-extend"),
    path(
        "mediation/cases/<int:pk>/withdraw/",
        apis.CaseWithdrawApi.as_view(),
        name="mediation-withdraw",
    ),
    path("mediation/cases/<int:pk>/fail/", apis.CaseFailApi.as_view(), name="mediation-fail"),
    path(
        "mediation/cases/<int:pk>/confirmation/",
        apis.CaseConfirmationApi.as_view(),
        name="mediation-confirmation",
    ),
    path(
        "mediation/cases/<int:pk>/follow-up/",
        apis.CaseFollowUpApi.as_view(),
        name="mediation-follow-up",
    ),
    path("mediation/cases/<int:pk>/close/", apis.CaseCloseApi.as_view(), name="mediation-close"),
    path("mediation/sessions/", apis.SessionListApi.as_view(), name="mediation-sessions"),
    path(
        "mediation/sessions/<int:pk>/start/",
        apis.SessionStartApi.as_view(),
        name="mediation-session-start",
    ),
    path(
        "mediation/sessions/<int:pk>/cancel/",
        apis.SessionCancelApi.as_view(),
        name="mediation-session-cancel",
    ),
    path(
        "mediation/sessions/<int:pk>/minutes/",
        apis.SessionMinutesApi.as_view(),
        name="mediation-session-minutes",
    ),
    path(
        "mediation/referrals/proposals/",
        apis.ReferralProposalsApi.as_view(),
        name="mediation-referral-proposals",
    ),
    path("mediation/referrals/", apis.ReferralCreateApi.as_view(), name="mediation-referrals"),
    path("mediation/stats/", apis.StatsApi.as_view(), name="mediation-stats"),
]
