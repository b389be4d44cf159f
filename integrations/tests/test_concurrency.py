"""The same hotline ticket sent concurrently files exactly one incident, and every sender gets
it back. Real concurrency needs PostgreSQL (row locks and unique-index waits); the sequential
duplicate is tested everywhere in test_apis.py."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection
from django.test import Client

from incidents.models import Incident
from integrations.models import IncomingTicket
from integrations.security import sign
from integrations.tests.conftest import IN_A1_1, make_partner_kit

THREADS = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_file_exactly_one_incident(region_tree):
    from incidents.loaders import load_categories

    load_categories()
    kit = make_partner_kit()
    body = json.dumps(
        {
            "ticket_id": "ZZ-CONCURRENT-1",
            "category_code": "0102",
            "description": "并发推送的同一工单",
            "lat": IN_A1_1[0],
            "lng": IN_A1_1[1],
            "caller_phone": "13912345678",
        }
    ).encode()
    base = int(time.time() * 1000)
    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, dict]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def send(index: int) -> None:
        try:
            timestamp = str(base + index)  # each sender signs its own request
            headers = {
                "X-Api-Key": kit.raw_key,
                "X-Timestamp": timestamp,
                "X-Signature": sign(kit.secret, timestamp, body),
            }
            client = Client()
            barrier.wait(timeout=30)
            response = client.post(
                "/api/v1/intake/hotline",
                data=body,
                content_type="application/json",
                headers=headers,
            )
            with lock:
                results.append((response.status_code, response.json()))
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert len(results) == THREADS
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (THREADS - 1) + [201], results
    numbers = {data["tracking_number"] for _, data in results}
    assert len(numbers) == 1
    assert Incident.objects.count() == 1
    assert IncomingTicket.objects.count() == 1
    assert Incident.objects.get().tracking_number == numbers.pop()
