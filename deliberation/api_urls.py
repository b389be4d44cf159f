"""REST API routes of deliberation, mounted under /api/v1/."""

from django.urls import path

from deliberation import apis

P = "deliberation/"
urlpatterns = [
    path(f"{P}proposals/", apis.ProposalListCreateApi.as_view(), name="api-deliberation-proposals"),
    path(
        f"{P}proposals/<int:proposal_id>/",
        apis.ProposalDetailApi.as_view(),
        name="api-deliberation-proposal",
    ),
    path(
        f"{P}proposals/<int:proposal_id>/support/",
        apis.ProposalSupportApi.as_view(),
        name="api-deliberation-proposal-support",
    ),
    path(
        f"{P}proposals/<int:proposal_id>/comments/",
        apis.ProposalCommentApi.as_view(),
        name="api-deliberation-proposal-comment",
    ),
    path(
        f"{P}proposals/<int:proposal_id>/review/",
        apis.ProposalReviewApi.as_view(),
        name="api-deliberation-proposal-review",
    ),
    path(
        f"{P}proposals/<int:proposal_id>/convert/",
        apis.ProposalConvertApi.as_view(),
        name="api-deliberation-proposal-convert",
    ),
    path(f"{P}meetings/", apis.MeetingListApi.as_view(), name="api-deliberation-meetings"),
    path(
        f"{P}meetings/<int:meeting_id>/",
        apis.MeetingDetailApi.as_view(),
        name="api-deliberation-meeting",
    ),
    path(
        f"{P}decisions/<int:decision_id>/",
        apis.DecisionDetailApi.as_view(),
        name="api-deliberation-decision",
    ),
    path(
        f"{P}decisions/<int:decision_id>/progress/",
        apis.DecisionProgressApi.as_view(),
        name="api-deliberation-decision-progress",
    ),
    path(
        f"{P}decisions/<int:decision_id>/rate/",
        apis.DecisionRateApi.as_view(),
        name="api-deliberation-decision-rate",
    ),
    path(f"{P}budget-rounds/", apis.RoundListApi.as_view(), name="api-deliberation-rounds"),
    path(
        f"{P}budget-rounds/<int:round_id>/",
        apis.RoundDetailApi.as_view(),
        name="api-deliberation-round",
    ),
    path(
        f"{P}budget-rounds/<int:round_id>/advance/",
        apis.RoundAdvanceApi.as_view(),
        name="api-deliberation-round-advance",
    ),
    path(
        f"{P}budget-rounds/<int:round_id>/projects/",
        apis.RoundProjectSubmitApi.as_view(),
        name="api-deliberation-round-project",
    ),
    path(
        f"{P}budget-rounds/<int:round_id>/ballot/",
        apis.RoundBallotApi.as_view(),
        name="api-deliberation-round-ballot",
    ),
    path(
        f"{P}budget-projects/<int:project_id>/review/",
        apis.BudgetProjectReviewApi.as_view(),
        name="api-deliberation-budget-project-review",
    ),
    path(f"{P}projects/", apis.LibraryListApi.as_view(), name="api-deliberation-projects"),
    path(
        f"{P}projects/<int:project_id>/",
        apis.LibraryDetailApi.as_view(),
        name="api-deliberation-project",
    ),
]
