"""Writes of the grids app: imports of regions (CSV) and grid cells (GeoJSON).

Imports are all or nothing: the whole file is checked first and every problem is collected with
the place it was found (CSV line, GeoJSON feature index) and a reason; only a file without any
problem is written, in one transaction. Saving cells and regions marks the locator's index stale
(grids.signals).

- `grids.services.regions`: `regions_import` and the division-code checks;
- `grids.services.cells`: `grid_cells_import` and `grid_cell_check` (the geometric checks);
- `grids.services._common`: what both share (`ImportProblem`, `ImportResult`, the admin check).

The names below are the public ones: import them from `grids.services`.
"""

from grids.services._common import ImportProblem, ImportResult
from grids.services.cells import TOLERANCE_M2, TOLERANCE_SHARE, grid_cell_check, grid_cells_import
from grids.services.regions import (
    PARENT_LEVEL,
    REGION_COLUMNS_OPTIONAL,
    REGION_COLUMNS_REQUIRED,
    region_code_problems,
    region_level_from_code,
    regions_import,
)

__all__ = [
    "PARENT_LEVEL",
    "REGION_COLUMNS_OPTIONAL",
    "REGION_COLUMNS_REQUIRED",
    "TOLERANCE_M2",
    "TOLERANCE_SHARE",
    "ImportProblem",
    "ImportResult",
    "grid_cell_check",
    "grid_cells_import",
    "region_code_problems",
    "region_level_from_code",
    "regions_import",
]
