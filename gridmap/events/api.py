"""The events REST API (thin: parsing and HTTP here, rules in services and selectors).

Every list and lookup goes through selectors.visible_events: an event outside the caller's
area answers 404, as if it did not exist. Times are given in Asia/Shanghai (+08:00)."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.encoding import smart_str
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from gridmap.core import clock
from gridmap.core.models import SENSITIVE_ROLES, User
from gridmap.core.scoping import mask_phone
from gridmap.core.validators import has_control_characters

from . import notify, selectors, services
from .calendar import TZ
from .filters import EventFilter
from .models import Category, Channel, Department, Event, EventAction, EventPhoto, Notification, Satisfaction, Urgency
from .photos import read_photo
from .workflow import TRANSITIONS, Action

# --- shared pieces ---------------------------------------------------------------------------

class LocalDateTimeField(serializers.DateTimeField):
    """A time in Asia/Shanghai (+08:00) whatever timezone is active."""

    def __init__(self, **kw):
        kw.setdefault("default_timezone", TZ)
        kw.setdefault("read_only", True)
        super().__init__(**kw)


class UserRefSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.display_name


class AreaRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()


def photo_url(request, photo: EventPhoto) -> str:
    url = reverse("events:photo", args=[photo.event_id, photo.pk])
    return request.build_absolute_uri(url) if request else url


# --- reporting (the patrol page posts here) ----------------------------------------------

class CategoryCodeField(serializers.SlugRelatedField):
    """An active category by its code: SlugRelatedField with the lookup as one plain indexed query
    (every report asks it), answering the same errors."""

    def to_internal_value(self, data):
        if has_control_characters(str(data)):  # no code holds one, and PostgreSQL refuses a NUL in a query
            self.fail("does_not_exist", slug_name=self.slug_field, value=smart_str(data))
        found = list(Category.objects.raw(f"SELECT * FROM {Category._meta.db_table} WHERE active AND code = %s", [str(data)]))
        if not found:
            self.fail("does_not_exist", slug_name=self.slug_field, value=smart_str(data))
        return found[0]


class ReportSerializer(serializers.Serializer):
    category = CategoryCodeField(slug_field="code", queryset=Category.objects.filter(active=True))
    lon = serializers.FloatField(min_value=-180, max_value=180, required=False)
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False)
    accuracy_m = serializers.FloatField(min_value=0, required=False, allow_null=True)
    description = serializers.CharField(max_length=4000)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.PATROL)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    client_id = serializers.UUIDField(required=False)
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list, max_length=9)


class ReportedSerializer(serializers.ModelSerializer):
    """What the reporter sees back: the number, where it went, who has it, and by when."""

    category = serializers.CharField(source="category.code")
    grid = serializers.CharField(source="grid.code", default=None, allow_null=True)
    grid_name = serializers.CharField(source="grid.name", default=None, allow_null=True)
    assignee = serializers.SerializerMethodField()
    due_at = serializers.SerializerMethodField()
    lon = serializers.FloatField(source="point.x")
    lat = serializers.FloatField(source="point.y")

    class Meta:
        model = Event
        fields = ["id", "number", "client_id", "category", "status", "level", "grid", "grid_name",
                  "outside_grid", "assignee", "due_at", "due_provisional", "lon", "lat"]

    @extend_schema_field(UserRefSerializer(allow_null=True))
    def get_assignee(self, event):
        user = event.assignee
        return None if user is None else {"username": user.username, "name": user.display_name}

    def get_due_at(self, event) -> str | None:
        return event.due_at.astimezone(TZ).isoformat() if event.due_at else None


def reported(event: Event) -> dict:
    """ReportedSerializer(event).data, field for field, built directly: the report path answers
    many requests a second and needs none of a serializer's machinery to say this much."""
    grid, user = event.grid, event.assignee
    return {
        "id": event.pk, "number": event.number, "client_id": str(event.client_id),
        "category": event.category.code, "status": str(event.status), "level": str(event.level),
        "grid": grid.code if grid else None, "grid_name": grid.name if grid else None,
        "outside_grid": bool(event.outside_grid),
        "assignee": None if user is None else {"username": user.username, "name": user.display_name},
        "due_at": event.due_at.astimezone(TZ).isoformat() if event.due_at else None,
        "due_provisional": bool(event.due_provisional),
        "lon": float(event.point.x), "lat": float(event.point.y),
    }


def django_errors(exc: ValidationError) -> ApiValidationError:
    return ApiValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})


@extend_schema(request=ReportSerializer, responses={201: ReportedSerializer, 200: ReportedSerializer}, tags=["events"])
class ReportView(APIView):
    """POST /api/events/report/ — a patrol or web report (multipart with photos, or JSON).
    201 with where it went; 200 with the same body when the client id was already received.
    Without lon/lat the first photo's EXIF GPS point is used."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]
    throttle_classes = [ScopedRateThrottle]  # per user: REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["event_report"], then 429
    throttle_scope = "event_report"

    def post(self, request):
        form = ReportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            photos = [read_photo(f, i) for i, f in enumerate(request.FILES.getlist("photos") or data["photos"], start=1)]
            lon, lat = data.get("lon"), data.get("lat")
            if lon is None or lat is None:
                exif = next((p["exif_point"] for p in photos if p["exif_point"]), None)
                if exif is None:
                    raise ValidationError({"point": "lon and lat are required (no GPS in the photos either)"})
                lon, lat = exif.x, exif.y
            result = services.report_event(
                reporter=request.user, category=data["category"], lon=lon, lat=lat,
                description=data["description"], urgency=data["urgency"], channel=data["channel"],
                client_id=data.get("client_id"), accuracy_m=data.get("accuracy_m"),
                address=data["address"], photos=photos,
            )
        except ValidationError as exc:
            raise django_errors(exc) from None
        except PermissionDenied as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
        body = reported(result.event)
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


# --- events: list, detail, actions -----------------------------------------------------------

class EventListSerializer(serializers.ModelSerializer):
    """The compact row of a list: enough to draw a queue or a map marker."""

    category = serializers.CharField(source="category.code")
    category_name = serializers.CharField(source="category.name")
    grid = serializers.CharField(source="grid.code", default=None, allow_null=True)
    area = serializers.CharField(source="area.code", default=None, allow_null=True)
    department = serializers.CharField(source="department.code", default=None, allow_null=True)
    assignee = serializers.CharField(source="assignee.username", default=None, allow_null=True)
    reported_at = LocalDateTimeField()
    due_at = LocalDateTimeField(allow_null=True)
    clock = serializers.SerializerMethodField()
    lon = serializers.FloatField(source="point.x")
    lat = serializers.FloatField(source="point.y")

    class Meta:
        model = Event
        fields = ["id", "number", "category", "category_name", "urgency", "status", "level", "grid", "area",
                  "department", "assignee", "reported_at", "due_at", "due_provisional", "clock", "lon", "lat", "version"]

    def get_clock(self, event) -> str:
        return selectors.clock_status(event, self.context.get("now"))


class TimelineSerializer(serializers.ModelSerializer):
    """One row of the action log (处置记录)."""

    actor = UserRefSerializer(allow_null=True)
    assignee = UserRefSerializer(allow_null=True)
    at = LocalDateTimeField()
    lon = serializers.FloatField(source="point.x", default=None, allow_null=True)
    lat = serializers.FloatField(source="point.y", default=None, allow_null=True)
    photos = serializers.SerializerMethodField()

    class Meta:
        model = EventAction
        fields = ["seq", "action", "from_status", "to_status", "actor", "at", "note", "public_note", "lon", "lat", "assignee", "photos"]

    def get_photos(self, row) -> list[str]:
        return [photo_url(self.context.get("request"), p) for p in row.photos.all()]


class EventDetailSerializer(serializers.ModelSerializer):
    """Everything about one event, its timeline and what the caller may do next."""

    category = serializers.SerializerMethodField()
    grid = AreaRefSerializer(allow_null=True)
    area = AreaRefSerializer(allow_null=True)
    department = serializers.CharField(source="department.code", default=None, allow_null=True)
    assignee = UserRefSerializer(allow_null=True)
    reporter = serializers.SerializerMethodField()
    reporter_phone = serializers.SerializerMethodField()
    lon = serializers.FloatField(source="point.x")
    lat = serializers.FloatField(source="point.y")
    reported_at = LocalDateTimeField()
    due_at = LocalDateTimeField(allow_null=True)
    warn_at = LocalDateTimeField(allow_null=True)
    paused_at = LocalDateTimeField(allow_null=True)
    closed_at = LocalDateTimeField(allow_null=True)
    clock = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    possible_duplicates = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = ["id", "number", "client_id", "category", "urgency", "status", "level", "grid", "area", "outside_grid",
                  "department", "assignee", "reporter", "reporter_phone", "channel", "description", "address",
                  "lon", "lat", "accuracy_m", "reported_at", "due_at", "due_provisional", "warn_at", "paused_at", "closed_at", "clock",
                  "escalations", "satisfaction", "version", "allowed_actions", "photos", "timeline", "possible_duplicates"]

    @extend_schema_field(inline_serializer("CategoryRef", {"code": serializers.CharField(), "name": serializers.CharField()}))
    def get_category(self, event):
        return {"code": event.category.code, "name": event.category.name}

    @extend_schema_field(inline_serializer("Reporter", {"username": serializers.CharField(allow_null=True), "name": serializers.CharField()}))
    def get_reporter(self, event):
        if event.reporter_id:
            return {"username": event.reporter.username, "name": event.reporter.display_name}
        return {"username": None, "name": event.reporter_name}

    def get_reporter_phone(self, event) -> str:
        """Shown in full to the roles that work with named residents, masked for the others."""
        user = self.context["request"].user
        phone = event.reporter_phone
        return phone if (user.role in SENSITIVE_ROLES or user.is_superuser or user.pk == event.reporter_id) else mask_phone(phone)

    def get_clock(self, event) -> str:
        return selectors.clock_status(event)

    def get_allowed_actions(self, event) -> list[str]:
        return selectors.actions_for(self.context["request"].user, event)

    def get_photos(self, event) -> list[str]:
        return [photo_url(self.context.get("request"), p) for p in event.photos.all()]

    @extend_schema_field(TimelineSerializer(many=True))
    def get_timeline(self, event):
        rows = (event.actions.select_related("actor", "assignee")
                .prefetch_related(Prefetch("photos", queryset=EventPhoto.objects.order_by("pk"))).order_by("seq"))
        return TimelineSerializer(rows, many=True, context=self.context).data

    @extend_schema_field(inline_serializer("DuplicateRef", {"id": serializers.IntegerField(), "number": serializers.CharField()}, many=True))
    def get_possible_duplicates(self, event):
        visible = selectors.visible_events(self.context["request"].user)
        return list(visible.filter(pk__in=event.possible_duplicates.values("pk")).values("id", "number"))


def visible(request):
    return selectors.visible_events(request.user).select_related("category", "grid", "area", "department", "assignee", "reporter")


@extend_schema(tags=["events"])
class EventListView(generics.ListAPIView):
    """Events the caller may see (their area's subtree, theirs, their department's), newest first."""

    serializer_class = EventListSerializer
    filterset_class = EventFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Event.objects.none()
        return visible(self.request).order_by("-reported_at", "-pk")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": clock.now()}


@extend_schema(tags=["events"])
class EventDetailView(generics.RetrieveAPIView):
    """One event with its timeline, clock, due time and the actions open to the caller."""

    serializer_class = EventDetailSerializer

    def get_object(self):
        return get_object_or_404(visible(self.request).prefetch_related("photos"), pk=self.kwargs["pk"])


class ActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[c for c in Action.choices if c[0] not in (Action.REPORT, Action.BOUNDARY)])
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="", help_text="internal: never shown outside")
    public_note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="",
                                        help_text="written for the public: shown as Open311 status_notes")
    assignee = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.filter(is_active=True),
                                            required=False, allow_null=True, help_text="username (assign)")
    department = serializers.SlugRelatedField(slug_field="code", queryset=Department.objects.all(),
                                              required=False, allow_null=True, help_text="department code (to_department)")
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices, required=False, allow_blank=True, default="")
    expected_version = serializers.IntegerField(min_value=0, required=False, allow_null=True,
                                                help_text="the version you saw; another version answers 409")
    lon = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True)
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True)
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list, max_length=9)

    def validate(self, data):
        if (data.get("lon") is None) != (data.get("lat") is None):
            missing = "lat" if data.get("lat") is None else "lon"
            raise serializers.ValidationError({missing: "send lon and lat together"})
        return data


ConflictSerializer = inline_serializer("Conflict", {
    "detail": serializers.CharField(), "status": serializers.CharField(), "version": serializers.IntegerField(),
    "allowed_actions": serializers.ListField(child=serializers.CharField()),
})


@extend_schema(
    request=ActionSerializer, tags=["events"],
    responses={200: EventDetailSerializer, 400: OpenApiResponse(OpenApiTypes.OBJECT, description="a field is missing or wrong; the body names it"),
               403: OpenApiResponse(OpenApiTypes.OBJECT, description="the caller's role may not take this action"),
               404: OpenApiResponse(OpenApiTypes.OBJECT, description="no such event in the caller's area"),
               409: ConflictSerializer},
)
class EventActionView(APIView):
    """POST /api/events/{id}/actions/ — take one workflow action (JSON, or multipart with photos).
    200 with the event; 409 when the event moved on (or the action is not possible in its state),
    with its current status, version and the actions now open to the caller."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def post(self, request, pk):
        event = get_object_or_404(selectors.visible_events(request.user), pk=pk)
        form = ActionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            photos = [read_photo(f, i) for i, f in enumerate(request.FILES.getlist("photos") or data["photos"], start=1)]
            point = services.check_point(data["lon"], data["lat"]) if data.get("lon") is not None else None
            event = services.act(
                event.pk, data["action"], request.user, note=data["note"], public_note=data["public_note"], point=point,
                assignee=data.get("assignee"), department=data.get("department"),
                satisfaction=data["satisfaction"], photos=photos, expected_version=data.get("expected_version"),
            )
        except services.Conflict as exc:
            current = exc.event
            return Response({"detail": str(exc), "status": current.status, "version": current.version,
                             "allowed_actions": selectors.actions_for(request.user, current)},
                            status=status.HTTP_409_CONFLICT)
        except Event.DoesNotExist:
            raise Http404 from None
        except PermissionDenied as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
        except ValidationError as exc:
            raise django_errors(exc) from None
        fresh = visible(request).prefetch_related("photos").filter(pk=event.pk).first() or event
        return Response(EventDetailSerializer(fresh, context={"request": request}).data)


class StaffRefSerializer(UserRefSerializer):
    id = serializers.IntegerField()


class DeputySerializer(serializers.Serializer):
    name = serializers.CharField(source="display_name")


class AssigneeSerializer(StaffRefSerializer):
    """Someone the caller may assign the event to: the assign action takes the username."""

    role = serializers.CharField()
    role_label = serializers.CharField(source="get_role_display")
    area = AreaRefSerializer(allow_null=True)
    on_leave = serializers.BooleanField(help_text="on leave today: the event goes to a deputy")
    deputy = DeputySerializer(allow_null=True, help_text="who deputises, by name only; null when the caller "
                                                         "could not assign that person the event themselves")


ASSIGNEES_QUERY_MAX = 50  # characters of ?q=


@extend_schema(
    tags=["events"],
    parameters=[
        OpenApiParameter("q", str, description=f"name or username contains this (case-insensitive): searches everyone "
                         f"the caller may assign, at most {selectors.ASSIGNEE_SEARCH_LIMIT} answered"),
        OpenApiParameter("X-Truncated", str, OpenApiParameter.HEADER, enum=["true", "false"], response=[200],
                         description="true: the caller may assign more people than listed (ask with ?q=)"),
    ],
    responses={
        200: AssigneeSerializer(many=True),
        403: OpenApiResponse(OpenApiTypes.OBJECT, description="the caller's role may not assign events"),
        404: OpenApiResponse(OpenApiTypes.OBJECT, description="no such event in the caller's area")})
class EventAssigneesView(APIView):
    """GET /api/events/{id}/assignees/ — staff the caller may assign the event to, leaders first,
    each saying whether they are on leave today and who deputises. The assign action accepts
    anyone of the event's handling area and the areas below it (primary-layer grids), within the
    caller's area; this lists only the staff of the handling area and of the areas one level below
    it, or with ?q= those of all whose name or username contains q (at most 50). The X-Truncated
    header says "true" when more people could be assigned than are listed (the body stays a list)."""

    def get(self, request, pk):
        event = get_object_or_404(visible(request), pk=pk)
        if not selectors.may_assign(request.user, event):
            return Response({"detail": f"{request.user.get_role_display()} may not assign events"}, status=status.HTTP_403_FORBIDDEN)
        query = request.query_params.get("q", "")
        if len(query) > ASSIGNEES_QUERY_MAX:
            raise ApiValidationError({"q": f"at most {ASSIGNEES_QUERY_MAX} characters"})
        rows, truncated = selectors.listed_assignees(request.user, event, clock.today(), query)
        return Response(AssigneeSerializer(rows, many=True).data, headers={"X-Truncated": "true" if truncated else "false"})


@extend_schema(tags=["events"], responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: OpenApiResponse(OpenApiTypes.OBJECT, description="not yours to see")})
class EventPhotoView(APIView):
    """A photo of an event, only for those who may see the event (photos are not public media)."""

    def get(self, request, pk, photo_pk):
        event = get_object_or_404(selectors.visible_events(request.user), pk=pk)
        photo = get_object_or_404(EventPhoto, pk=photo_pk, event=event)
        try:
            handle = photo.image.open("rb")
        except FileNotFoundError:
            raise Http404("the photo file is missing") from None
        response = FileResponse(handle, content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=3600"
        return response


# --- categories and the workflow table -------------------------------------------------------

class TimeLimitSerializer(serializers.Serializer):
    urgency = serializers.CharField()
    amount = serializers.IntegerField()
    unit = serializers.CharField()
    warn_at = serializers.FloatField(help_text="share of the time after which the clock turns yellow")


class CategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    parent = serializers.CharField(allow_null=True)
    depth = serializers.IntegerField()
    active = serializers.BooleanField()
    open311 = serializers.BooleanField()
    handling_level = serializers.CharField(help_text="as set on this node; empty: inherited")
    effective_level = serializers.CharField(help_text="the level that handles it by default")
    department = serializers.CharField(allow_null=True, help_text="effective department code")
    time_limits = TimeLimitSerializer(many=True, help_text="effective limit per urgency (inherited if not set here)")
    children = serializers.ListField(child=serializers.DictField())


def category_tree(active_only=False) -> list[dict]:
    """The whole tree in two queries: parents are linked in memory so inheritance costs nothing."""
    nodes = list(Category.objects.select_related("department").prefetch_related("time_limits").order_by("code"))
    by_id = {c.pk: c for c in nodes}
    for c in nodes:
        c.parent = by_id.get(c.parent_id)  # fills the FK cache: lineage() walks memory
    out = {}

    def row(c):
        depth = sum(1 for _ in c.lineage()) - 1
        dept = c.effective_department()
        limits = [selectors.time_limit(c, u) for u in Urgency.values]
        return {
            "code": c.code, "name": c.name, "parent": c.parent.code if c.parent else None, "depth": depth,
            "active": c.active, "open311": c.open311, "handling_level": c.handling_level,
            "effective_level": c.effective_level(), "department": dept.code if dept else None,
            "time_limits": [{"urgency": u, "amount": t.amount, "unit": t.unit, "warn_at": t.warn_at}
                            for u, t in zip(Urgency.values, limits) if t is not None],
            "children": [],
        }

    roots = []
    for c in nodes:
        if active_only and not all(n.active for n in c.lineage()):
            continue
        out[c.pk] = row(c)
        (out[c.parent_id]["children"] if c.parent_id in out else roots).append(out[c.pk])
    return roots


@extend_schema(tags=["categories"], responses=CategorySerializer(many=True),
               parameters=[OpenApiParameter("active", bool, description="true: only categories in use")])
class CategoryTreeView(APIView):
    """The category tree (事件类型) with handling levels and time limits (inherited values resolved)."""

    def get(self, request):
        return Response(category_tree(active_only=request.query_params.get("active") in ("1", "true", "True")))


@extend_schema(tags=["categories"], responses=CategorySerializer)
class CategoryDetailView(APIView):
    def get(self, request, code):
        def find(nodes):
            for n in nodes:
                if n["code"] == code:
                    return n
                hit = find(n["children"])
                if hit:
                    return hit
        hit = find(category_tree())
        if hit is None:
            raise Http404(f"no category {code}")
        return Response(hit)


@extend_schema(tags=["events"], responses=inline_serializer("Transition", {
    "state": serializers.CharField(), "action": serializers.CharField(), "roles": serializers.ListField(child=serializers.CharField()),
    "to": serializers.CharField(allow_null=True), "needs_note": serializers.BooleanField()}, many=True))
class WorkflowView(APIView):
    """The transition table (workflow.TRANSITIONS) that drives the service, this API and the buttons."""

    def get(self, request):
        return Response([{"state": t.state, "action": t.action, "roles": sorted(t.roles), "to": t.to,
                          "needs_note": t.needs_note} for t in TRANSITIONS])


# --- inbox -----------------------------------------------------------------------------------

class NotificationSerializer(serializers.ModelSerializer):
    event = serializers.IntegerField(source="event_id", allow_null=True)
    event_number = serializers.CharField(source="event.number", default=None, allow_null=True)
    created_at = LocalDateTimeField()
    read_at = LocalDateTimeField()
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "event", "event_number", "created_at", "read_at", "read"]

    def get_read(self, note) -> bool:
        return note.read_at is not None


@extend_schema(tags=["inbox"], parameters=[OpenApiParameter("unread", bool, description="true: only unread messages")])
class InboxView(generics.ListAPIView):
    """The caller's in-app messages (消息), newest first."""

    serializer_class = NotificationSerializer
    filterset_class = None
    filter_backends = []

    def get_queryset(self):
        qs = selectors.inbox(self.request.user).select_related("event").order_by("-created_at", "-pk")
        if self.request.query_params.get("unread") in ("1", "true", "True"):
            qs = qs.filter(read_at__isnull=True)
        return qs


UnreadSerializer = inline_serializer("Unread", {"unread": serializers.IntegerField()})


@extend_schema(tags=["inbox"], responses=UnreadSerializer)
class UnreadCountView(APIView):
    def get(self, request):
        return Response({"unread": selectors.unread_count(request.user)})


@extend_schema(tags=["inbox"], request=None, responses=NotificationSerializer)
class MarkOneReadView(APIView):
    """Mark one of the caller's messages read (404 for anyone else's)."""

    @extend_schema(operation_id="inbox_read_one")
    def post(self, request, pk):
        note = get_object_or_404(selectors.inbox(request.user), pk=pk)
        notify.mark_read(request.user, [note.pk])
        note.refresh_from_db()
        return Response(NotificationSerializer(note).data)


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, allow_null=True,
                                help_text="leave out to mark every message read")


@extend_schema(tags=["inbox"], request=MarkReadSerializer,
               responses=inline_serializer("Marked", {"marked": serializers.IntegerField(), "unread": serializers.IntegerField()}))
class MarkReadView(APIView):
    @extend_schema(operation_id="inbox_read_many")
    def post(self, request):
        form = MarkReadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        marked = notify.mark_read(request.user, form.validated_data.get("ids"))
        return Response({"marked": marked, "unread": selectors.unread_count(request.user)})
