from django.conf import settings

from core.navigation import menu_for


def portal(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"menu": [], "unread_count": 0, "MAP_TILE_URL": settings.MAP_TILE_URL}
    return {
        "menu": menu_for(user),
        "unread_count": user.notifications.filter(read_at__isnull=True).count(),
        "MAP_TILE_URL": settings.MAP_TILE_URL,
        "MAP_TILE_ATTRIBUTION": settings.MAP_TILE_ATTRIBUTION,
    }
