from django.urls import path

from deliberation.views import budgets, meetings, projects, proposals, supervision

app_name = "deliberation"

urlpatterns = [
    path("", proposals.home, name="home"),
    path("manage/", proposals.manage, name="manage"),
    path("proposals/", proposals.proposal_list, name="proposal-list"),
    path("proposals/new/", proposals.proposal_new, name="proposal-new"),
    path("proposals/<int:pk>/", proposals.proposal_detail, name="proposal-detail"),
    path("proposals/<int:pk>/support/", proposals.proposal_support, name="proposal-support"),
    path("proposals/<int:pk>/comment/", proposals.proposal_comment, name="proposal-comment"),
    path("proposals/<int:pk>/review/", proposals.proposal_review, name="proposal-review"),
    path("proposals/<int:pk>/convert/", proposals.proposal_convert, name="proposal-convert"),
    path("comments/<int:pk>/hide/", proposals.comment_hide, name="comment-hide"),
    path("comments/<int:pk>/show/", proposals.comment_show, name="comment-show"),
    path("photos/<int:pk>/", proposals.proposal_photo, name="photo"),
    path("photos/<int:pk>/thumb/", proposals.proposal_photo, {"thumb": True}, name="photo-thumb"),
    path("meetings/", meetings.meeting_list, name="meeting-list"),
    path("meetings/new/", meetings.meeting_new, name="meeting-new"),
    path("meetings/<int:pk>/", meetings.meeting_detail, name="meeting-detail"),
    path(
        "meetings/<int:pk>/participants/", meetings.meeting_participant, name="meeting-participant"
    ),
    path("meetings/<int:pk>/notice/", meetings.meeting_notice, name="meeting-notice"),
    path("meetings/<int:pk>/minutes/", meetings.meeting_minutes, name="meeting-minutes"),
    path("meetings/<int:pk>/decisions/", meetings.meeting_decide, name="meeting-decide"),
    path("meetings/<int:pk>/close/", meetings.meeting_close, name="meeting-close"),
    path("meetings/<int:pk>/cancel/", meetings.meeting_cancel, name="meeting-cancel"),
    path("decisions/<int:pk>/", meetings.decision_detail, name="decision-detail"),
    path("decisions/<int:pk>/progress/", meetings.decision_progress, name="decision-progress"),
    path("decisions/<int:pk>/rate/", meetings.decision_rate, name="decision-rate"),
    path("progress-photos/<int:pk>/", meetings.progress_photo, name="progress-photo"),
    path("budgets/", budgets.round_list, name="round-list"),
    path("budgets/new/", budgets.round_new, name="round-new"),
    path("budgets/<int:pk>/", budgets.round_detail, name="round-detail"),
    path("budgets/<int:pk>/advance/", budgets.round_advance, name="round-advance"),
    path("budgets/<int:pk>/projects/", budgets.project_submit, name="round-project-submit"),
    path("budgets/<int:pk>/ballot/", budgets.ballot, name="round-ballot"),
    path("budget-projects/<int:pk>/review/", budgets.project_review, name="budget-project-review"),
    path("projects/", projects.project_list, name="project-list"),
    path("projects/new/", projects.project_new, name="project-new"),
    path("projects/<int:pk>/", projects.project_detail, name="project-detail"),
    path("projects/<int:pk>/milestones/", projects.milestone_add, name="project-milestone"),
    path("projects/<int:pk>/spending/", projects.spending, name="project-spending"),
    path("projects/<int:pk>/complete/", projects.project_complete, name="project-complete"),
    path("milestones/<int:pk>/reach/", projects.milestone_reach, name="milestone-reach"),
    path("supervision/", supervision.supervision, name="supervision"),
    path("supervision/export/", supervision.supervision_export, name="supervision-export"),
]
