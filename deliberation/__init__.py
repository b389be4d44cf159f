"""协商议事: proposals and supports, consultation meetings, participatory budgets (issue 24)."""
