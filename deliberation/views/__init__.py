"""Pages of deliberation, by subject."""
