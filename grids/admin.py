from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.masking import mask_phone
from grids.geometry import polygon_problems
from grids.models import GridCell, GridWorker, Region, Team
from grids.services import grid_cell_check


def polygon_svg(geometry: dict | None, *, size: int = 160) -> str:
    """A small SVG drawing of a GeoJSON polygon (outer ring and holes); no map tiles needed."""
    if not geometry or polygon_problems(geometry):
        return "—"
    rings = geometry["coordinates"]
    xs = [p[0] for ring in rings for p in ring]
    ys = [p[1] for ring in rings for p in ring]
    minx, maxx, miny, maxy = min(xs), max(xs), min(ys), max(ys)
    span = max(maxx - minx, maxy - miny) or 1.0

    def point(p: list[float]) -> str:
        x = (p[0] - minx) / span * (size - 8) + 4
        y = (maxy - p[1]) / span * (size - 8) + 4  # north up
        return f"{x:.1f},{y:.1f}"

    path = " ".join("M" + " L".join(point(p) for p in ring) + " Z" for ring in rings)
    return format_html(
        '<svg width="{}" height="{}" viewBox="0 0 {} {}" role="img" class="grid-preview">'
        '<path d="{}" fill="#1565c0" fill-opacity="0.2" stroke="#1565c0" stroke-width="1.5" '
        'fill-rule="evenodd"/></svg>',
        size,
        size,
        size,
        size,
        path,
    )


class ChildRegionInline(admin.TabularInline):
    model = Region
    fk_name = "parent"
    fields = ("code", "name", "level")
    readonly_fields = ("code", "name", "level")
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("sub-regions")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "level", "parent", "cell_count")
    list_filter = ("level",)
    search_fields = ("code", "name", "name_en")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)
    readonly_fields = ("boundary_preview", "created_at", "updated_at")
    fields = (
        "code",
        "name",
        "name_en",
        "level",
        "parent",
        "boundary",
        "boundary_preview",
        "created_at",
        "updated_at",
    )
    inlines = [ChildRegionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(cells=Count("grid_cells")).order_by("code")

    @admin.display(description=_("grid cells"), ordering="cells")
    def cell_count(self, obj: Region) -> int:
        return obj.cells

    @admin.display(description=_("boundary"))
    def boundary_preview(self, obj: Region) -> str:
        return polygon_svg(obj.boundary)


class GridCellAdminForm(forms.ModelForm):
    class Meta:
        model = GridCell
        fields = ("code", "name", "kind", "community", "geometry", "active")

    def clean(self):
        cleaned = super().clean()
        code, community, geometry = (
            cleaned.get("code"),
            cleaned.get("community"),
            cleaned.get("geometry"),
        )
        if code and community and geometry is not None:
            problems, area = grid_cell_check(
                code=code,
                community=community,
                geometry=geometry,
                current_code=self.instance.code if self.instance.pk else None,
            )
            if problems:
                raise forms.ValidationError(problems)
            self.instance.area_m2 = round(area, 1)
        return cleaned


class WorkerInline(admin.TabularInline):
    model = GridWorker.cells.through
    extra = 0
    autocomplete_fields = ("gridworker",)
    verbose_name = _("grid worker")
    verbose_name_plural = _("grid workers")


@admin.register(GridCell)
class GridCellAdmin(admin.ModelAdmin):
    form = GridCellAdminForm
    list_display = ("code", "name", "kind", "community", "area_m2", "active", "worker_count")
    list_filter = ("kind", "active", "community__parent")
    search_fields = ("code", "name", "community__name", "community__code")
    autocomplete_fields = ("community",)
    list_select_related = ("community",)
    readonly_fields = ("area_m2", "preview", "created_at", "updated_at")
    inlines = [WorkerInline]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(workers_total=Count("workers")).order_by("code")
        )

    @admin.display(description=_("grid workers"), ordering="workers_total")
    def worker_count(self, obj: GridCell) -> int:
        return obj.workers_total

    @admin.display(description=_("map preview"))
    def preview(self, obj: GridCell) -> str:
        return polygon_svg(obj.geometry)


@admin.register(GridWorker)
class GridWorkerAdmin(admin.ModelAdmin):
    list_display = ("user", "masked_phone", "kind", "on_duty", "cell_list", "police_officer_name")
    list_filter = ("kind", "on_duty", "cells__community__parent")
    search_fields = (
        "user__username",
        "user__display_name",
        "user__phone",
        "cells__code",
        "police_officer_name",
    )
    autocomplete_fields = ("user", "cells")
    list_select_related = ("user",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("cells")

    @admin.display(description=_("mobile phone"))
    def masked_phone(self, obj: GridWorker) -> str:
        return mask_phone(obj.user.phone)

    @admin.display(description=_("grid cells"))
    def cell_list(self, obj: GridWorker) -> str:
        codes = sorted(cell.code for cell in obj.cells.all())
        return format_html_join(", ", "{}", ((code,) for code in codes)) or "—"


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "region", "member_count")
    list_filter = ("kind",)
    search_fields = ("name", "region__name", "region__code")
    autocomplete_fields = ("region", "members")
    list_select_related = ("region",)
