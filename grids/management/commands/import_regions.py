from grids.management.commands._import import ImportCommand
from grids.services import ImportResult, regions_import


class Command(ImportCommand):
    help = (
        "Import regions from a UTF-8 CSV with columns code,name,name_en,level,parent_code "
        "(optional: boundary, a GeoJSON polygon). All or nothing: any problem writes nothing."
    )
    file_help = "CSV file"

    def run_import(self, text: str, *, dry_run: bool) -> ImportResult:
        return regions_import(csv_text=text, dry_run=dry_run)
