"""POST /api/events/report/: photos checked by content, EXIF GPS as fallback, EXIF stripped."""
import io
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gridmap.events.models import Event, EventPhoto

URL = "/api/events/report/"


def jpeg_with_gps(lon, lat) -> bytes:
    img = Image.new("RGB", (64, 48), "orange")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make: must not survive storage
    gps = {1: "N", 2: (int(lat), int(lat * 60) % 60, (lat * 3600) % 60), 3: "E", 4: (int(lon), int(lon * 60) % 60, (lon * 3600) % 60)}
    exif[0x8825] = gps
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_report_with_photo_and_exif_location(client, tree, staff, dispute):
    client.force_login(staff["patroller"])
    photo = SimpleUploadedFile("p.jpg", jpeg_with_gps(113.92, 22.55), content_type="image/jpeg")
    cid = str(uuid.uuid4())
    r = client.post(URL, {"category": "0101", "description": "井盖缺失", "client_id": cid, "photos": [photo]})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["grid"] == tree["a"].code and body["assignee"]["username"] == "leader_a" and body["due_at"]
    stored = EventPhoto.objects.get()
    assert abs(stored.exif_point.x - 113.92) < 1e-3 and abs(stored.exif_point.y - 22.55) < 1e-3
    assert b"PhoneMaker" not in stored.image.read()
    again = client.post(URL, {"category": "0101", "description": "井盖缺失", "client_id": cid, "lon": 113.92, "lat": 22.55})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Event.objects.count() == 1


def test_bad_input_gets_clear_400s_and_stores_nothing(client, tree, staff, dispute, settings):
    client.force_login(staff["patroller"])
    base = {"category": "0101", "description": "x", "lon": 113.92, "lat": 22.55}
    cases = [
        ({**base, "lat": 91}, "lat"),
        ({k: v for k, v in base.items() if k not in ("lon", "lat")}, "point"),
        ({**base, "category": "9999"}, "category"),
        ({**base, "photos": [SimpleUploadedFile("x.jpg", b"just text, not an image", content_type="image/jpeg")]}, "photos"),
    ]
    settings.EVENT_PHOTO_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.jpg", b"\xff" * 2048, content_type="image/jpeg")
    cases.append(({**base, "photos": [big]}, "photos"))
    for data, field in cases:
        r = client.post(URL, data)
        assert r.status_code == 400, (field, r.content)
        assert field in r.json(), r.json()
    assert not Event.objects.exists() and not EventPhoto.objects.exists()
