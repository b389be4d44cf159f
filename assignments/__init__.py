"""上级交办任务: tasks from above, service of court documents, campaigns (issue 20)."""
