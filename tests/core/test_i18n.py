"""The zh-hans UI is Chinese throughout: every admin page's labels, the model and choice labels,
role names Chinese-first, and a catalogue with nothing untranslated or fuzzy.

The admin walk iterates `admin.site._registry`, so a model registered later is covered without
touching this file."""
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.gis.geos import Point
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from gridmap.core.models import AccessLog, Role

from ..conftest import rect
from ..estate import household, person

PO = Path(__file__).resolve().parents[2] / "gridmap" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Codes, units and acronyms a Chinese label may keep as they are.
ALLOWED = {"ID", "API", "URL", "GPS", "EXIF", "Open311", "GeoJSON", "WGS84", "CGCS2000", "GCJ-02", "GB", "GB/T",
           "CJ/T", "ISO", "MOD", "Django", "m", "km", "m²", "㎡"}


def english(text: str) -> bool:
    """True when `text` has no Chinese and still has letters once the allowed tokens are gone:
    English where a Chinese label belongs (data such as a username may stand alone)."""
    return not CJK.search(text) and bool(foreign_words(text))


def foreign_words(text: str) -> list[str]:
    """The words of `text` in Latin letters that are not an allowed code, unit or acronym."""
    return [w for w in re.findall(r"[A-Za-z][A-Za-z0-9_²./+-]*", text) if w.rstrip(".") not in ALLOWED]


def chinese_first(text) -> bool:
    """Chinese before any English word (a leading code such as "Open311" or "GB/T 2260" is fine)."""
    text = str(text)
    first_cjk = CJK.search(text)
    foreign = foreign_words(text)
    return bool(first_cjk) and (not foreign or text.index(foreign[0]) > first_cjk.start())


class Labels(HTMLParser):
    """The label-like texts of an admin page, by kind: the page heading (h1), fieldset and inline
    headings, <label>, column headers (thead th), filter titles and choices, the action menu and
    help texts. Object names (the title, the h2 over a change form, row headers) are data."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.found = [], []
        self.thead = self.filter = self.action_select = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "img", "input", "meta", "link", "hr", "col", "source"):
            return
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "thead":
            self.thead += 1
        if tag == "details" and "data-filter-title" in attrs:
            self.filter += 1
        if tag == "select" and attrs.get("name") == "action":
            self.action_select += 1
        kind = None
        hidden = "visually-hidden" in classes or bool(self.stack and self.stack[-1][3])
        if hidden:
            pass  # Django's own screen-reader column names, not (yet) in its zh_Hans catalogue
        elif tag in ("h1", "label") or (tag == "th" and self.thead):
            kind = tag
        elif tag in ("h2", "h3", "h4") and {"fieldset-heading", "inline-heading"} & set(classes):
            kind = "heading"
        elif tag == "summary" and self.filter:
            kind = "filter title"
        elif tag == "option" and self.action_select:
            kind = "action"
        elif tag == "div" and "help" in classes:
            kind = "help text"
        self.stack.append([tag, kind, [], hidden])

    def handle_endtag(self, tag):
        if not any(entry[0] == tag for entry in self.stack):
            return
        while self.stack:
            t, kind, parts, _hidden = self.stack.pop()
            text = " ".join("".join(parts).split())
            if kind and text:
                self.found.append((kind, text))
            if self.stack:  # an element's text includes its children's
                self.stack[-1][2].append("".join(parts))
            if t == tag:
                break
        if tag == "thead":
            self.thead -= 1
        if tag == "details" and self.filter:
            self.filter -= 1
        if tag == "select" and self.action_select:
            self.action_select -= 1

    def handle_data(self, data):
        if self.stack:
            self.stack[-1][2].append(data)


def english_labels(html: str) -> list[tuple[str, str]]:
    """Label texts with an English word in them; help texts (which may name a brand or key, as
    Django's own do) only when they have no Chinese at all."""
    parser = Labels()
    parser.feed(html)
    app_names = {w for app in apps.get_app_configs() if app.name.startswith("gridmap.") for w in foreign_words(app.verbose_name)}
    return [(kind, text) for kind, text in parser.found
            if (english(text) if kind == "help text" else set(foreign_words(text)) - app_names)]


@pytest.fixture
def centre_client(client, staff, report):
    """A centre administrator in zh-hans, with a row in most registers (a change page each)."""
    from gridmap.people.models import SpecialGroupRecord, WelfareRecord
    from gridmap.places.models import Building, Dwelling, Facility, Organisation, RentedDwelling

    report()
    building = Building.objects.create(code="A-1", name="幸福楼1栋", footprint=rect(113.9245, 22.5495, 113.9249, 22.5498))
    dwelling = Dwelling.objects.create(building=building, unit=1, floor=3, room="1-301", use="rented")
    head = person(dwelling, "王流动", 38, residence_type="floating")
    household("H1", dwelling, (head, "head"))
    RentedDwelling.objects.create(dwelling=dwelling, landlord_name="赵房东", status="registered")
    WelfareRecord.objects.create(person=head, kind="dibao", start="2024-01-01")
    SpecialGroupRecord.objects.create(person=head, group="correction", start="2025-01-01")
    Organisation.objects.create(name="幸福超市", kind="shop", location=Point(113.92, 22.55, srid=4326))
    Facility.objects.create(code="F-1", kind="hydrant", geom=Point(113.921, 22.551, srid=4326))
    AccessLog.objects.create(user=staff["centre"], model="people.person", object_id=head.pk, what="id_number")
    client.force_login(staff["centre"])
    client.cookies["django_language"] = "zh-hans"
    return client


def admin_urls(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_view_or_change_permission(request):
            continue
        info = model._meta.app_label, model._meta.model_name
        urls.append(reverse("admin:app_list", args=[model._meta.app_label]))
        urls.append(reverse("admin:%s_%s_changelist" % info))
        if model_admin.has_add_permission(request):
            urls.append(reverse("admin:%s_%s_add" % info))
        first = model_admin.get_queryset(request).order_by("pk").first()
        if first is not None:
            urls.append(reverse("admin:%s_%s_change" % info, args=[first.pk]))
    return list(dict.fromkeys(urls))


@pytest.mark.django_db
def test_every_admin_page_is_chinese_for_the_centre(centre_client, staff):
    urls = admin_urls(staff["centre"])
    assert len(urls) > 3 * len(admin.site._registry) // 2, urls  # the walk reached the models
    problems = {}
    for url in urls:
        response = centre_client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        html = response.content.decode()
        assert '<html lang="zh-hans"' in html, url
        bad = english_labels(html)
        if bad:
            problems[url] = bad
    assert not problems, "\n".join(f"{url}: {bad}" for url, bad in problems.items())


def test_the_label_check_catches_english_and_lets_codes_through():
    html = ("<title>leader_a | 修改 area</title><h1>修改 area</h1><h2>leader_a</h2><label>Code:</label><label>编码:</label>"
            '<h2 class="fieldset-heading">where</h2>'
            "<table><thead><tr><th>Shown id number</th><th>ID</th><th>GPS 定位精度</th></tr></thead>"
            "<tbody><tr><th>leader_a</th></tr></tbody></table>"
            '<details data-filter-title="level"><summary>By level</summary><ul><li><a href="?">全部</a></li>'
            '<li><a href="?">leader_a</a></li><li><a href="?">王伟 leader_b</a></li></ul></details>'
            '<select name="action"><option>Archive</option><option>归档</option></select><div class="help">Only grids.</div>')
    assert english_labels(html + "<h1>网格 Grids 管理</h1>") == [
        ("h1", "修改 area"), ("label", "Code:"), ("heading", "where"), ("th", "Shown id number"),
        ("filter title", "By level"), ("action", "Archive"), ("help text", "Only grids.")]
    assert english("area") and english("Open311 requests") and not english("Open311") and not english("ID")


@pytest.mark.django_db
def test_model_field_and_choice_labels_are_chinese_first():
    problems = []
    with translation.override("zh-hans"):
        for model in apps.get_models():
            if not model.__module__.startswith("gridmap."):
                continue
            meta = model._meta
            if model in admin.site._registry or not meta.auto_created:
                for what in (meta.verbose_name, meta.verbose_name_plural):
                    if model in admin.site._registry and not chinese_first(what):
                        problems.append(f"{meta.label}: {what}")
            if model not in admin.site._registry:
                continue
            for field in meta.get_fields():
                if not hasattr(field, "verbose_name") or field.auto_created and not field.concrete:
                    continue
                if field.name in ("id",) or not getattr(field, "editable", True) and field.name == "path":
                    continue
                if not chinese_first(field.verbose_name):
                    problems.append(f"{meta.label}.{field.name}: {field.verbose_name}")
                if field.help_text and not chinese_first(field.help_text):
                    problems.append(f"{meta.label}.{field.name} help: {field.help_text}")
                for value, label in field.flatchoices if field.choices else ():
                    if not chinese_first(label):
                        problems.append(f"{meta.label}.{field.name}={value}: {label}")
    assert not problems, "\n".join(problems)


def test_role_names_are_chinese_first_in_zh_hans_and_english_in_en(django_user_model):
    user = django_user_model(username="x", role=Role.GRID_LEADER)
    with translation.override("zh-hans"):
        assert str(Role.GRID_LEADER.label) == "网格长"
        assert user.get_role_display() == "网格长"
        assert all(chinese_first(label) for _value, label in Role.choices)
    with translation.override("en"):
        assert user.get_role_display().startswith("Grid leader")


def test_the_catalogue_has_nothing_untranslated_or_fuzzy():
    text = PO.read_text(encoding="utf-8")
    entries = [e for e in re.split(r"\n\s*\n", text) if re.search(r'^msgid "', e, re.M)][1:]  # [0] is the header
    fuzzy = [e for e in entries if re.search(r"^#,.*\bfuzzy\b", e, re.M)]
    empty = [e for e in entries if re.search(r'^msgstr(\[\d+\])? ""$(?!\n")', e, re.M)]
    obsolete = [e for e in re.split(r"\n\s*\n", text) if e.lstrip().startswith("#~")]
    assert len(entries) > 500
    assert not fuzzy, fuzzy[:5]
    assert not empty, empty[:5]
    assert not obsolete, obsolete[:5]
    if shutil.which("msgfmt"):
        # placeholders kept exactly (python-format / python-brace-format checks), and the
        # committed .mo is compiled from this .po
        out = subprocess.run(["msgfmt", "--check-format", "--statistics", "-o", "-", str(PO)], capture_output=True)
        assert out.returncode == 0, out.stderr.decode()
        assert "untranslated" not in out.stderr.decode() and "fuzzy" not in out.stderr.decode(), out.stderr.decode()
        assert out.stdout == PO.with_suffix(".mo").read_bytes(), "django.mo is stale: msgfmt --check-format -o django.mo django.po"
