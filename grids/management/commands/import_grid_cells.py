from grids.management.commands._import import ImportCommand
from grids.services import ImportResult, grid_cells_import


class Command(ImportCommand):
    help = (
        "Import grid cells from a GeoJSON FeatureCollection (properties code, name, kind, "
        "community_code). All or nothing: any problem writes nothing."
    )
    file_help = "GeoJSON file"

    def run_import(self, text: str, *, dry_run: bool) -> ImportResult:
        return grid_cells_import(geojson_text=text, dry_run=dry_run)
