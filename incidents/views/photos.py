"""Incident photos: scoped, never public files."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from core.exceptions import NotFoundError
from incidents import selectors
from incidents.views.track import _tracked

# --- photos (scoped, never public files) ------------------------------------------------------

PHOTO_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
}


@require_GET
def photo(request: HttpRequest, pk: int, thumb: bool = False) -> HttpResponse:
    """One incident photo (or its thumbnail), streamed to a viewer who may see it: signed in
    and the incident in scope, or an anonymous tracker whose session proved the tracking
    number and phone digits. Anything else is a 404 (the same for a photo that does not
    exist). Media files are never served publicly."""
    try:
        if request.user.is_authenticated:
            item = selectors.photo_get_for_user(user=request.user, photo_id=pk)
        else:
            item = selectors.photo_get_for_tracker(photo_id=pk, tracked=_tracked(request))
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    field = item.thumbnail if thumb and item.thumbnail else item.image
    name = field.name or ""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    content_type = PHOTO_TYPES.get(suffix)
    if content_type is None:
        raise Http404
    try:
        handle = field.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=content_type)
    filename = f"{item.incident.tracking_number}-{item.pk}{'-thumb' if thumb else ''}{suffix}"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Vary"] = "Cookie"
    return response
