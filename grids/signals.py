"""Keep the locator's index fresh: any saved or deleted GridCell or Region makes it stale.

The local index is marked stale at once (a lookup later in the same transaction sees the
change); the other processes are told through the shared cache once the transaction commits
(one message per transaction, however many rows it wrote).
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.transactions import on_commit_once
from grids import locator
from grids.models import GridCell, Region


def _publish() -> None:
    locator.invalidate(shared=True)


@receiver(post_save, sender=GridCell, dispatch_uid="grids_locator_cell_saved")
@receiver(post_delete, sender=GridCell, dispatch_uid="grids_locator_cell_deleted")
@receiver(post_save, sender=Region, dispatch_uid="grids_locator_region_saved")
@receiver(post_delete, sender=Region, dispatch_uid="grids_locator_region_deleted")
def locator_index_stale(sender, **kwargs) -> None:
    if kwargs.get("raw"):  # loaddata: the index is rebuilt on the next lookup anyway
        locator.invalidate(shared=False)
        return
    locator.invalidate(shared=False)
    on_commit_once(_publish)
