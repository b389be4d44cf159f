from django.db import models


class BenchRow(models.Model):
    """One row per request of the minimal endpoint."""

    created_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"bench row {self.pk}"
