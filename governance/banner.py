"""The demo banner lines: core.banner (any app's demo loader adds to them; governance's
`portal_banner` command prints them). Re-exported here for the old import path."""

from core.banner import demo_banner_add, demo_banner_lines, demo_banner_path

__all__ = ["demo_banner_add", "demo_banner_lines", "demo_banner_path"]
