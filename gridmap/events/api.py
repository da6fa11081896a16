"""The events REST API (thin: parsing and HTTP here, rules in services and selectors)."""
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .calendar import TZ
from .models import Category, Channel, Event, Urgency
from .photos import read_photo


class ReportSerializer(serializers.Serializer):
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.filter(active=True))
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
    grid = serializers.CharField(source="grid.code", default=None)
    grid_name = serializers.CharField(source="grid.name", default=None)
    assignee = serializers.SerializerMethodField()
    due_at = serializers.SerializerMethodField()
    lon = serializers.FloatField(source="point.x")
    lat = serializers.FloatField(source="point.y")

    class Meta:
        model = Event
        fields = ["id", "number", "client_id", "category", "status", "level", "grid", "grid_name",
                  "outside_grid", "assignee", "due_at", "lon", "lat"]

    def get_assignee(self, event):
        user = event.assignee
        return None if user is None else {"username": user.username, "name": user.get_full_name() or user.username}

    def get_due_at(self, event):
        return event.due_at.astimezone(TZ).isoformat() if event.due_at else None


def django_errors(exc: ValidationError) -> ApiValidationError:
    return ApiValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})


class ReportView(APIView):
    """POST /api/events/report/ — a patrol or web report (multipart with photos, or JSON).
    201 with where it went; 200 with the same body when the client id was already received.
    Without lon/lat the first photo's EXIF GPS point is used."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]

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
        body = ReportedSerializer(result.event).data
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)
