"""The content security policy (issue 11, deliverable 4; django-csp): every page answers with the
policy; scripts only from gridmap's origin plus the per-request nonce the map pages' import maps
and the admin's Leaflet widgets carry; no 'unsafe-inline' or 'unsafe-eval' for scripts anywhere,
the Swagger UI included (its start-up script is a separate request); the base-map tile server in
img-src when one is configured. The browser side (no violation, the maps draw) is
tests/browser/test_csp.py."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gridmap.settings import _tile_sources

ROOT = Path(__file__).resolve().parents[2]

FIXED = {
    "default-src": ["'self'"],
    "style-src": ["'self'"],
    "style-src-attr": ["'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "worker-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";"))}


def nonce_of(directives) -> str:
    sources = directives["script-src"]
    assert sources[0] == "'self'" and len(sources) == 2 and sources[1].startswith("'nonce-"), sources
    return sources[1][len("'nonce-"):-1]


def assert_strict(directives):
    for name, values in FIXED.items():
        assert directives[name] == values, name
    assert not any("unsafe" in v for v in directives["script-src"])


@pytest.mark.parametrize("path", ["/", "/patrol/"])
def test_map_pages_nonce_their_import_maps(client, staff, path):
    client.force_login(staff["leader_a"])
    response = client.get(path)
    assert response.status_code == 200
    directives = policy(response)
    assert_strict(directives)
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert f'<script type="importmap" nonce="{nonce_of(directives)}">' in scripts
    # every other script is a file of gridmap's origin or data (json_script), never inline code
    for tag in scripts:
        assert "nonce=" in tag or " src=" in tag or 'type="application/json"' in tag, tag
    assert " onchange=" not in html and " onclick=" not in html


def test_nonce_differs_per_request(client, staff):
    client.force_login(staff["leader_a"])
    assert nonce_of(policy(client.get("/"))) != nonce_of(policy(client.get("/")))


def test_inbox_and_login_pages_have_the_policy_without_a_nonce(client, staff):
    directives = policy(client.get("/admin/login/"))
    assert_strict(directives)
    assert directives["script-src"] == ["'self'"]  # nothing inline: the nonce is not even offered
    client.force_login(staff["leader_a"])
    assert policy(client.get("/inbox/"))["script-src"] == ["'self'"]


def test_admin_map_widgets_carry_the_nonce(client, tree, staff, report):
    client.force_login(staff["centre"])
    event = report()
    for path in [f"/admin/grids/area/{tree['a'].pk}/change/", f"/admin/events/event/{event.pk}/change/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        directives = policy(response)
        assert_strict(directives)
        nonce = nonce_of(directives)
        inline = re.findall(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", response.content.decode())
        assert inline and all(f'nonce="{nonce}"' in tag for tag in inline), (path, inline)


def test_api_docs_load_their_script_as_a_file(client, staff):
    client.force_login(staff["leader_a"])
    response = client.get("/api/docs/")
    assert response.status_code == 200
    directives = policy(response)
    assert directives["script-src"] == ["'self'"]  # no inline script, no eval
    assert directives["style-src"] == ["'self'", "'unsafe-inline'"]  # the page's inline <style> block, this page only
    assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"]
    html = response.content.decode()
    assert not re.search(r"<script>\s*\S", html)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


@pytest.mark.parametrize("template, source", [
    ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
    ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&x={x}&y={y}&z={z}", "https://*.is.autonavi.com"),
    ("http://t{s}.tianditu.gov.cn/vec_w/wmts?tk=KEY&x={x}&y={y}&l={z}", "http://*.tianditu.gov.cn"),
    ("https://tiles.example.org:8443/{z}/{x}/{y}.png", "https://tiles.example.org:8443"),
    ("//{s}.tiles.example.org/{z}/{x}/{y}.png", "*.tiles.example.org"),
])
def test_tile_source_from_the_url_template(template, source):
    assert _tile_sources(template) == [source]


def test_no_tile_source_for_none_or_a_local_path():
    assert _tile_sources("") == [] and _tile_sources("/tiles/{z}/{x}/{y}.png") == []


def test_configured_tile_server_is_in_img_src():
    env = {k: v for k, v in os.environ.items() if k != "GRIDMAP_TILE_URL"}
    env.update(GRIDMAP_TILE_URL="https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", DJANGO_SETTINGS_MODULE="gridmap.settings")
    out = subprocess.run([sys.executable, "-c", "from django.conf import settings; "
                          "print(' '.join(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']))"],
                         env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert out == ["'self'", "data:", "blob:", "https://*.tile.openstreetmap.org"]
