"""REST API routes of integrations, mounted under /api/v1/ (partner systems, signed calls)."""

from django.urls import path

from integrations import apis

urlpatterns = [
    path("intake/hotline", apis.HotlineIntakeApi.as_view(), name="api-intake-hotline"),
    path(
        "intake/hotline/<str:ticket_id>",
        apis.HotlineTicketApi.as_view(),
        name="api-intake-hotline-ticket",
    ),
    path(
        "webhooks/subscriptions",
        apis.WebhookSubscriptionListCreateApi.as_view(),
        name="api-webhook-subscriptions",
    ),
    path(
        "webhooks/subscriptions/<int:pk>",
        apis.WebhookSubscriptionDeleteApi.as_view(),
        name="api-webhook-subscription",
    ),
]
