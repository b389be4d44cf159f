"""Pages of the grids app: the grid map and the region tree. Reads only (selectors)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from grids import selectors


@login_required
def grid_map(request: HttpRequest) -> HttpResponse:
    """The cells the user may see on a Leaflet map, with a list and a region filter."""
    choices = selectors.region_filter_choices(user=request.user)
    selected = None
    wanted = request.GET.get("region", "").strip()
    if wanted:
        selected = selectors.region_list(user=request.user).filter(code=wanted).first()
        if selected is None:
            messages.warning(request, _("That region is not in your area; showing all of it."))
    collection = selectors.map_features(user=request.user, region=selected)
    view = selectors.grid_cell_view(user=request.user)
    return render(
        request,
        "grids/map.html",
        {
            "cells_geojson": collection,
            "features": collection["features"],
            "region_choices": choices,
            "selected_region": selected,
            "staff_data": view.staff_data,
            "map_labels": {
                "code": _("Grid code"),
                "kind": _("Kind"),
                "community": _("Community"),
                "workers": _("Grid workers"),
                "none": _("no grid worker"),
                "offDuty": _("off duty"),
                "own": _("my grid"),
            },
        },
    )


@login_required
def region_list(request: HttpRequest) -> HttpResponse:
    """The user's visible regions as a tree, with counts of cells and grid workers."""
    return render(request, "grids/regions.html", {"rows": selectors.region_tree(user=request.user)})
