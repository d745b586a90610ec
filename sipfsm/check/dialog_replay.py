"""The first layer of the checker's replay: its state (the report, the engines, the
tolerances), deviations, and each endpoint's dialogs -- `sipfsm.elements.dialogs.DialogSet`s
over the ``dialog`` machine, as the UA core (`sipfsm.elements.endpoint.Endpoint`) feeds them:
their timers, state paths and messages, a dialog machine's `ProtocolError` as a deviation,
and the end of each of their transactions (RFC 5407 §2).

`DialogReplay` < `sipfsm.check.clock.TimerReplay` < `sipfsm.check.replay.MessageReplay` <
`sipfsm.check.checker.Checker`: one object, its methods in layers, each module under 600
lines.
"""

from __future__ import annotations

from typing import cast

from sipfsm.check.report import CheckReport
from sipfsm.check.rules import (
    CHECK_RULES,
    TOLERANCE_ABS,
    TOLERANCE_REL,
    Deviation,
    failed_guard,
    state_rfc,
)
from sipfsm.check.state import DialogRecord, Glare, ReplayCall, ReplaySet, ReplayTx, Side
from sipfsm.decl.language import PROFILES
from sipfsm.decl.timers import Timing
from sipfsm.elements import core
from sipfsm.elements.dialogs import DialogEngine, DialogSet, Routed
from sipfsm.elements.matching import (
    TransactionKey,
)
from sipfsm.engine import model
from sipfsm.engine.runtime import Engine
from sipfsm.values.errors import ProtocolError, UnknownName
from sipfsm.values.events import (
    Event,
    MessageSent,
    StartTimer,
    StopTimer,
    TransactionEnded,
)
from sipfsm.values.message import Request


class DialogReplay:
    """The checker's state and its dialogs' replay; `sipfsm.check.checker.Checker` is the
    whole of it."""

    def __init__(
        self,
        profile: str = "rfc6026",
        t1: float = 0.5,
        t2: float = 4.0,
        t4: float = 5.0,
        tolerance: float | None = None,
        tolerance_rel: float | None = None,
    ) -> None:
        if profile not in PROFILES:
            raise UnknownName("profile", profile, PROFILES)
        self.profile = profile
        self.timings = {t: Timing(t1, t2, t4, t) for t in ("udp", "tcp")}
        #: the timing 64*T1 is taken from (the same on every transport)
        self._t64 = self.timings["udp"]
        #: the tolerances asked for (None: per trace, `_tolerances`)
        self.tolerance = tolerance
        self.tolerance_rel = tolerance_rel
        self.tol_abs = TOLERANCE_ABS if tolerance is None else tolerance
        self.tol_rel = TOLERANCE_REL if tolerance_rel is None else tolerance_rel
        #: whether the trace is the checked endpoint's own view (``--as``, a SIPp log, a
        #: simulator's observations): what it received, it received at the time shown.
        #: Otherwise the capture point may lie anywhere on the path (`Checker.check_trace`)
        self.own_view = True
        self.engines: dict[tuple[str, str], Engine] = {}
        #: (role, method, transport) -> (machine, engine)
        self._tx_engines: dict[tuple[str, str, str], tuple[str, Engine]] = {}
        self._dialog_engines: dict[str, DialogEngine] = {}
        self.report = CheckReport(profile)
        self._seen: set[tuple[str, int]] = set()
        self._seen_messages: set[tuple[str, TransactionKey, int, str]] = set()
        self._codes: dict[int, int] = {}
        self._matched: set[int] = set()
        self._ended: list[tuple[ReplayTx, float]] = []
        self._tx_count = 0
        self._dialog_count = 0
        #: the endpoints of the trace being checked
        self._checked: dict[str, Side] = {}

    # -- engines and events ---------------------------------------------------------------------

    def _engine(self, machine: str, transport: str) -> Engine:
        key = (machine, transport)
        found = self.engines.get(key)
        if found is None:
            found = self.engines[key] = model.engine(machine, self.profile, self.timings[transport])
        return found

    def _tol(self, interval: float) -> float:
        return max(self.tol_abs, self.tol_rel * interval)

    def _violate(
        self, rule: str, index: int, text: str, side: str, rfc: str = "", code: int | None = None
    ) -> None:
        if (rule, index) in self._seen:
            return
        self._seen.add((rule, index))
        known = CHECK_RULES.get(rule)
        self.report.violations.append(
            Deviation(rule, rfc or (known.rfc if known else ""), index, code, text, side)
        )

    # -- dialogs --------------------------------------------------------------------------------

    def _dialog_engine(self, transport: str) -> DialogEngine:
        found = self._dialog_engines.get(transport)
        if found is None:
            engine = self._engine("dialog", transport)
            found = self._dialog_engines[transport] = cast(DialogEngine, engine)
        return found

    def _dialog(
        self,
        dset: ReplaySet,
        event: Event,
        at: float,
        index: int,
        tag: str | None = None,
        remote: str | None = None,
        start: bool = False,
    ) -> list[Routed] | None:
        """Give ``event`` to a dialog set: keep its timers, record its dialogs' paths and
        the message (``index``, of the dialog whose remote tag is ``remote``). A
        ProtocolError is a deviation (None is returned)."""
        try:
            routed = dset.set.start(event) if start else dset.set.handle(event, tag)
        except ProtocolError as exc:
            if type(event) is MessageSent and self._fire_early(dset.call, at):
                return self._dialog(dset, event, at, index, tag, remote, start)
            self._dialog_error(dset, exc, event, index)
            return None
        call = dset.call
        for rtag, action in routed:  # (most events start or stop no timer of a dialog)
            kind = type(action)
            if kind is StartTimer:
                name = action.name  # type: ignore[union-attr]
                deadline = at + action.seconds  # type: ignore[union-attr]
                call.timers[(dset, rtag, name)] = deadline
                call.due = min(call.due, deadline + self.tol_abs)
                if name == "Glare":
                    self._glare_started(dset, rtag, at, index)
            elif kind is StopTimer:
                name = action.name  # type: ignore[union-attr]
                call.timers.pop((dset, rtag, name), None)
                if name == "Glare":
                    dset.glare.pop(rtag, None)  # a BYE: no retry is due (§14.1)
        recs = dset.recs
        dialogs = dset.set.dialogs
        count = len(dialogs)
        rec: DialogRecord | None = None
        if len(recs) == count:
            # a set never drops an instance, so these are the same ones
            for rec in recs.values():
                state = rec.inst.state
                path = rec.path
                if path[-1] != state:
                    path.append(state)
        else:
            for inst in dialogs.values():
                known = recs.get(id(inst))
                if known is None:
                    recs[id(inst)] = DialogRecord(inst)
                elif known.path[-1] != inst.state:
                    known.path.append(inst.state)
        if index:
            dset.last_index = index
            if count == 1:  # the one dialog, whatever its tag (the record seen above)
                if rec is None:
                    rec = next(iter(recs.values()))
            else:
                found = dialogs.get(remote or "")
                if found is None:
                    return routed
                rec = recs[id(found)]
            rec.messages.append(index)
            self._matched.add(index)
        return routed

    def _glare_started(self, dset: ReplaySet, tag: str, at: float, index: int) -> None:
        """The dialog started its §14.1 glare timer on a 491 to our re-INVITE or UPDATE:
        keep what the retry will be judged by. Whose Call-ID it is is the dialog's
        ``call_id_owner``: the caller's, who generated it (RFC 3261 §8.1.1.4)."""
        inst = dset.set.dialogs.get(tag)
        if inst is None or inst.retry_request is None:
            return
        dset.glare[tag] = Glare(at, inst.retry_request, bool(inst.call_id_owner), index)

    def _dialog_error(self, dset: ReplaySet, exc: ProtocolError, event: Event, index: int) -> None:
        """A dialog machine's (or its set's) ProtocolError: the rule is its message, the
        section that of the guard that failed, else of the state."""
        engine = dset.set.engine
        rfc = state_rfc(engine.decl, exc.state)
        insts = [i for i in dset.set.dialogs.values() if i.state == exc.state]
        guard = failed_guard(engine, insts, event, exc.state)
        self._violate(
            str(exc),
            index or dset.last_index,
            f"{dset.side} ({dset.set.role or 'new dialog'}): {exc}",
            dset.side,
            guard.rfc if guard is not None else rfc,
            getattr(getattr(event, "message", None), "status", None),
        )

    def _flush_ended(self) -> None:
        """Tell the dialogs which of their transactions ended (after the message that ended
        them reached the dialog, as RFC 5407 §2's Timeout follows it)."""
        while self._ended:
            ended = self._ended
            self._ended = []
            for tx, at in ended:
                dset = tx.dset
                if dset is None:
                    continue
                event = TransactionEnded(tx.method, tx.cseq, tx.role)
                done = core.invite_completed_at(self.profile, tx.accepted_at, self._t64)
                if done >= 0:  # RFC 3261 §13.2.2.4: the UAC core waits (as the Endpoint does)
                    name = f"64*T1 (CSeq {tx.cseq})"
                    dset.pending_ends[name] = event
                    call = dset.call
                    call.timers[(dset, "", name)] = done
                    call.due = min(call.due, done + self.tol_abs)
                    continue
                self._dialog(dset, event, at, 0)

    def _new_set(self, side: Side, call: ReplayCall, transport: str) -> ReplaySet:
        dset = ReplaySet(side.name, call, DialogSet(self._dialog_engine(transport)))
        call.dsets.append(dset)
        return dset

    @staticmethod
    def _find_set(call: ReplayCall, local_tag: str) -> ReplaySet | None:
        """The dialog set of the call whose local tag is ``local_tag`` (the latest one if
        none has it: its dialogs then answer for the unmatched tags, RFC 3261 §12.2.2)."""
        sets = call.dsets
        if not sets:
            return None
        for dset in reversed(sets):
            if dset.set.local_tag == local_tag:
                return dset
        return sets[-1]

    @staticmethod
    def _tracks(dset: ReplaySet, role: str, request: Request) -> bool:
        """Whether a dialog of the set took ``request`` as one of its transactions
        (`sipfsm.elements.dialogs.DialogSet.tracks`, as the Endpoint asks it)."""
        return dset.set.tracks(role, request.method, request.cseq)

    def _fire_early(self, call: ReplayCall, now: float) -> bool:
        """Fire the call's timers due within their tolerance (`TimerReplay._fire_early`)."""
        raise NotImplementedError
