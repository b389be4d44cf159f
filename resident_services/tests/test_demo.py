import pytest

from resident_services import demo
from resident_services.models import ConsultationHours, ServiceProvider, ServiceRequest
from tests.builders import make_user

pytestmark = pytest.mark.django_db


def test_the_demo_loads_twice_without_changing_anything(region_tree):
    make_user("resident", roles=["resident"], phone="13800000001")
    demo.load_demo({}, None)
    counts = (
        ServiceRequest.objects.count(),
        ConsultationHours.objects.count(),
        ServiceProvider.objects.count(),
    )
    assert counts == (3, 2, 2)
    assert set(ServiceRequest.objects.values_list("state", flat=True)) == {
        "accepted",
        "awaiting_materials",
        "completed",
    }
    demo.load_demo({}, None)
    assert (
        ServiceRequest.objects.count(),
        ConsultationHours.objects.count(),
        ServiceProvider.objects.count(),
    ) == counts
