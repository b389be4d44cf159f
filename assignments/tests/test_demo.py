"""The demo tasks load through the services and a second run changes nothing."""

import io

import pytest

from assignments import demo
from assignments.models import Assignment, Campaign, Task
from grids import demo as grids_demo

pytestmark = pytest.mark.django_db


def test_demo_tasks_load_once():
    data = grids_demo.load_data(grids_demo.DEMO_FILE)
    grids_demo.load_demo(data, io.StringIO())
    demo.load_demo(data, io.StringIO())
    assert Task.objects.count() == 2 and Campaign.objects.count() == 1
    service = Task.objects.get(title=demo.SERVICE_TITLE)
    assert service.service.addressee_name == "林秀英" and service.assignments.count() == 1
    campaign_task = Task.objects.get(title=demo.VISIT_TITLE)
    assert campaign_task.assignments.count() >= 2
    count = Assignment.objects.count()
    demo.load_demo(data, io.StringIO())
    assert Task.objects.count() == 2 and Assignment.objects.count() == count
