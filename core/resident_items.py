"""What the resident's centre (我的, residents app) lists of each app, in one shape.

Each app below residents offers a selector returning ResidentItem rows for one resident (its own
records only, already scoped); the residents app puts them in sections. The app stays unaware of
where its items are shown (residents is above it in the layers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ResidentItem:
    kind: str  # the section's label, translated (我的上报, 我的调解申请 ...)
    title: str  # public text only: no other person's data
    state: str  # the state's label, translated
    url: str  # the item's detail page with its public timeline
    updated_at: datetime
    next_step: str = ""  # what happens next / what the resident may do now, translated
    action_url: str = ""  # e.g. the rating form when a rating is asked
