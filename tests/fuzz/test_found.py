"""Requests the long fuzz run (GRIDMAP_FUZZ_EXAMPLES=500) answered with a 5xx, kept as plain
cases once fixed."""
from rest_framework.test import APIClient


def test_a_report_with_a_nul_byte_in_the_category_code_is_a_400(users, dispute):
    client = APIClient()
    client.force_login(users["centre"])
    answer = client.post("/api/events/report/", {"category": "01\x0001", "description": "楼道堆放杂物",
                                                  "lon": 113.92, "lat": 22.55}, format="json")
    assert answer.status_code == 400 and "category" in answer.json()
