"""REST API routes of resident_services, mounted under /api/v1/."""

from django.urls import path

from resident_services import apis

urlpatterns = [
    path("services/items/", apis.ServiceItemListApi.as_view(), name="api-services-items"),
    path(
        "services/requests/",
        apis.ServiceRequestListCreateApi.as_view(),
        name="api-services-requests",
    ),
    path(
        "services/requests/<int:request_id>/",
        apis.ServiceRequestDetailApi.as_view(),
        name="api-services-request-detail",
    ),
    *[
        path(
            f"services/requests/<int:request_id>/{action.replace('_', '-')}/",
            view.as_view(),
            name=f"api-services-request-{action.replace('_', '-')}",
        )
        for action, view in apis.ACTION_APIS.items()
    ],
    path("services/slots/", apis.SlotListApi.as_view(), name="api-services-slots"),
    path("services/bookings/", apis.BookingListCreateApi.as_view(), name="api-services-bookings"),
    path(
        "services/bookings/<int:booking_id>/cancel/",
        apis.BookingCancelApi.as_view(),
        name="api-services-booking-cancel",
    ),
    path("services/hours/", apis.HoursListCreateApi.as_view(), name="api-services-hours"),
    path(
        "services/hours/<int:hours_id>/withdraw/",
        apis.HoursWithdrawApi.as_view(),
        name="api-services-hours-withdraw",
    ),
    path("services/supervision/", apis.SupervisionApi.as_view(), name="api-services-supervision"),
]
