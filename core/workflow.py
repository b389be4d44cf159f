"""One workflow vocabulary for the apps whose objects move through states (incidents, mediation
cases, petitions).

A move is always the same five steps, in this order, inside one `transaction.atomic()`:

1. **lock** the row: `obj = lock(Model, pk, not_found=NotFoundError(...))`, a plain
   `select_for_update().get()`; concurrent moves of the same object queue behind it;
2. check scope and role (the app's own selectors and policies: they differ per app);
3. **move** it: `previous = move(obj, GRAPH, action, target)` checks the declared graph and sets
   the state field (it does not save: the service saves once, with its other fields);
4. **record** it: `record(EventModel, obj, actor=..., action=..., from_state=previous,
   to_state=obj.state, note=...)` writes the one timeline row every state change owes;
5. **enqueue** the follow-up on commit: `enqueue_on_commit(task, obj.pk)`.

The graph is declared once per app, as a `Graph`:

    GRAPH = Graph({
        Action.VERIFY: Move([S.VERIFYING], S.VERIFIED),
        Action.ESCALATE: [Move([S.VERIFYING, S.RESOLVED]), Move([S.DISPATCHED], S.DISPATCHED)],
        Action.START_VERIFICATION: {S.REPORTED: {S.VERIFYING, S.VERIFIED}},
    })

Each action maps to a `Move` (sources → one target; target None: a side move that leaves the
state as it is), a list of them, or directly `{source: target(s)}` (incidents.models.ACTIONS is
already in that shape: `Graph(ACTIONS)`). Apps whose graph is still `state → states` for every
action (mediation.models.TRANSITIONS, petitions.models.TRANSITIONS) use
`Graph(transitions=TRANSITIONS)`: every action then may take any edge of that graph; declaring
actions later narrows it action by action.

Refusals are `core.exceptions.ConflictError` (409). An app that words them its own way passes a
`conflict(obj, action, target) -> ApplicationError` factory to `check`/`move`. Bulk moves (a
sweep's `UPDATE ... SET state = ...`) call `check_bulk` once per batch, so that the declared
graph covers them too.

Nothing here knows an app: incidents, mediation and petitions each keep their `_load`/`_move`/
`_event` as thin wrappers (for their messages and policies) over these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError, ConflictError
from core.transactions import enqueue_on_commit

__all__ = [
    "ConflictFactory",
    "Graph",
    "Move",
    "check",
    "check_bulk",
    "enqueue_on_commit",
    "lock",
    "move",
    "record",
]

M = TypeVar("M", bound=models.Model)
# conflict(obj, action, target) -> the error to raise (target None: no particular target).
ConflictFactory = Callable[[Any, str, "str | None"], ApplicationError]
_Targets = str | Iterable[str] | None


@dataclass(frozen=True, init=False)
class Move:
    """One edge set of an action: from any of `sources` to `target` (None: the state stays as
    it is, a side move such as a note or an extension). `target` may also be several states
    when the service chooses among them (e.g. verified directly, or verifying)."""

    sources: frozenset[str]
    targets: frozenset[str] | None

    def __init__(self, sources: Iterable[str], target: _Targets = None) -> None:
        object.__setattr__(self, "sources", frozenset(str(s) for s in sources))
        if target is None:
            object.__setattr__(self, "targets", None)
        elif isinstance(target, str):
            object.__setattr__(self, "targets", frozenset({str(target)}))
        else:
            object.__setattr__(self, "targets", frozenset(str(t) for t in target))

    def edges(self) -> dict[str, frozenset[str]]:
        if self.targets is None:
            return {source: frozenset({source}) for source in self.sources}
        return dict.fromkeys(self.sources, self.targets)


def _edges(declaration: Any) -> dict[str, frozenset[str]]:
    """{source: targets} of one action's declaration (Move, list of Moves, or a mapping)."""
    if isinstance(declaration, Move):
        return declaration.edges()
    if isinstance(declaration, Mapping):
        edges: dict[str, frozenset[str]] = {}
        for source, targets in declaration.items():
            if targets is None:
                targets = {source}
            elif isinstance(targets, str):
                targets = {targets}
            edges[str(source)] = edges.get(str(source), frozenset()) | {str(t) for t in targets}
        return edges
    if isinstance(declaration, Sequence):
        merged: dict[str, frozenset[str]] = {}
        for part in declaration:
            for source, targets in _edges(part).items():
                merged[source] = merged.get(source, frozenset()) | targets
        return merged
    raise TypeError(f"not a move declaration: {declaration!r}")


class Graph:
    """A declared state graph: which action may move an object from which state to which.

    `Graph(actions)` with `actions = {action: Move | [Move, ...] | {source: target(s)}}`;
    `Graph(transitions={state: {states}})` for a graph that does not (yet) distinguish actions:
    any action not declared in `actions` may then take any of those edges. With neither for an
    action, asking about it raises KeyError (an unknown action is a bug, not a refusal).

    Immutable once built; cheap to query (dict lookups), so services ask it on every move."""

    def __init__(
        self,
        actions: Mapping[str, Any] | None = None,
        *,
        transitions: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self._actions: dict[str, dict[str, frozenset[str]]] = {
            str(action): _edges(declaration) for action, declaration in (actions or {}).items()
        }
        self._any: dict[str, frozenset[str]] | None = (
            None
            if transitions is None
            else {str(s): frozenset(str(t) for t in ts) for s, ts in transitions.items()}
        )

    def _for(self, action: str) -> Mapping[str, frozenset[str]]:
        edges = self._actions.get(str(action))
        if edges is not None:
            return edges
        if self._any is not None:
            return self._any
        raise KeyError(f"action {action!r} is not declared in this graph")

    @property
    def actions(self) -> frozenset[str]:
        """The actions declared one by one (not those only covered by `transitions`)."""
        return frozenset(self._actions)

    def sources(self, action: str) -> frozenset[str]:
        """The states `action` may start from."""
        return frozenset(source for source, targets in self._for(action).items() if targets)

    def targets(self, action: str, state: str) -> frozenset[str]:
        """The states `action` may lead to from `state` (empty: not allowed from there)."""
        return self._for(action).get(str(state), frozenset())

    def can(self, action: str, state: str, target: str | None = None) -> bool:
        """May `action` start from `state` (and, with `target`, lead to it)?"""
        targets = self.targets(action, state)
        return bool(targets) if target is None else str(target) in targets

    def state_graph(self) -> dict[str, set[str]]:
        """state → every state some action may lead to from it (what the apps call
        TRANSITIONS), derived from the declaration."""
        graph: dict[str, set[str]] = {}
        for edges in [*self._actions.values(), *([self._any] if self._any else [])]:
            for source, targets in edges.items():
                graph.setdefault(source, set()).update(targets)
        return graph


def _state_label(obj: Any, field: str) -> str:
    display = getattr(obj, f"get_{field}_display", None)
    return str(display()) if callable(display) else str(getattr(obj, field))


def _default_conflict(obj: Any, action: str, target: str | None, *, field: str) -> ConflictError:
    state = getattr(obj, field)
    label = getattr(action, "label", action)
    return ConflictError(
        _("Cannot %(action)s while it is “%(state)s”.")
        % {"action": label, "state": _state_label(obj, field)},
        extra={"state": [state]},
    )


def check(
    obj: Any,
    graph: Graph,
    action: str,
    *,
    field: str = "state",
    conflict: ConflictFactory | None = None,
) -> None:
    """Raise unless `action` may start from the object's current state: the state check a
    service runs after the lock and the scope/role checks, before it changes anything."""
    if not graph.targets(action, getattr(obj, field)):
        if conflict is not None:
            raise conflict(obj, action, None)
        raise _default_conflict(obj, action, None, field=field)


def move(
    obj: Any,
    graph: Graph,
    action: str,
    target: str | None = None,
    *,
    field: str = "state",
    conflict: ConflictFactory | None = None,
) -> str:
    """Set `obj.<field>` to `target` if the graph allows `action` from the current state to it;
    returns the state it came from (for the timeline event). `target=None` takes the action's
    only target from here (a side move stays where it is); an action with several targets
    needs it.

    It neither saves nor records: the caller holds the row lock (`lock`), saves once and calls
    `record`. A refusal raises `conflict(obj, action, target)` if given, else a ConflictError
    (409) naming the current state. Nothing is changed when it raises."""
    source = getattr(obj, field)
    allowed = graph.targets(action, source)
    if target is None and len(allowed) == 1:
        (target,) = allowed
    elif target is None and allowed:
        raise ValueError(f"{action} from {source} needs a target: one of {sorted(allowed)}")
    if target is None or str(target) not in allowed:
        if conflict is not None:
            raise conflict(obj, action, target)
        raise _default_conflict(obj, action, target, field=field)
    setattr(obj, field, target)
    return source


def check_bulk(graph: Graph, action: str, from_states: Iterable[str], target: str) -> list[str]:
    """For a bulk move (`filter(state__in=from_states).update(state=target)`, the sweeps):
    raise ConflictError unless `action` may lead from every one of `from_states` to `target`.
    Returns the states as a list, ready for `state__in`. Call it once per batch, before the
    UPDATE; the UPDATE itself should still filter on those states (rows may have moved)."""
    states = [str(state) for state in from_states]
    refused = [state for state in states if not graph.can(action, state, target)]
    if refused or not states:
        raise ConflictError(f"{action} cannot lead from {refused or states} to {target}")
    return states


def lock(
    model_or_queryset: type[M] | models.QuerySet[M],
    pk: Any,
    *,
    of: Sequence[str] = (),
    not_found: ApplicationError | None = None,
) -> M:
    """The row, locked until the transaction ends: a plain `select_for_update().get(pk=pk)`
    (`of=("self",)` on PostgreSQL to lock only this table's row when the queryset joins).
    Call it inside `transaction.atomic()`. A missing row raises `not_found` if given (e.g.
    NotFoundError(_("Incident not found."))), else the model's DoesNotExist."""
    queryset = (
        model_or_queryset
        if isinstance(model_or_queryset, models.QuerySet)
        else model_or_queryset._default_manager.all()
    )
    try:
        # A queryset with select_related joins (nullable foreign keys are outer joins, which
        # PostgreSQL cannot lock): lock only this table's row unless `of` says otherwise.
        if not of and queryset.query.select_related:
            of = ("self",)
        return queryset.select_for_update(of=tuple(of)).get(pk=pk)
    except ObjectDoesNotExist:  # the model's DoesNotExist (.get of one pk: nothing else)
        if not_found is not None:
            raise not_found from None
        raise


_subject_fields: dict[tuple[type, type], str] = {}


def _subject_field(event_model: type[models.Model], subject: type[models.Model]) -> str:
    key = (event_model, subject)
    name = _subject_fields.get(key)
    if name is None:
        concrete = subject._meta.concrete_model
        names = [
            f.name
            for f in event_model._meta.get_fields()
            if isinstance(f, models.ForeignKey) and f.related_model is concrete
        ]
        if len(names) != 1:
            raise TypeError(
                f"{event_model.__name__}: {len(names)} foreign keys to {subject.__name__}; "
                "pass subject_field="
            )
        name = _subject_fields[key] = names[0]
    return name


def record(
    event_model: type[M],
    obj: models.Model,
    *,
    actor: Any,
    action: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    public: bool | None = None,
    data: dict | None = None,
    subject_field: str | None = None,
    **extra: Any,
) -> M:
    """Write one timeline row (a core.models.TimelineEvent subclass) for `obj`: the event
    every state change owes, and the side events (notes, warnings) that leave the state alone
    (both states empty, or both the current one, as the app's timeline shows them).

    `actor=None` is the system. `public=None` leaves the model's default (mediation's events
    have no such column). The foreign key to `obj` is found on `event_model` (the only one to
    the object's model) unless `subject_field` names it; `extra` are further columns."""
    fields: dict[str, Any] = {
        subject_field or _subject_field(event_model, type(obj)): obj,
        "actor": actor,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "note": note,
        "data": data or {},
        **extra,
    }
    if public is not None:
        fields["public"] = public
    return event_model._default_manager.create(**fields)
