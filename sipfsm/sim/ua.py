"""The simulator's user agent: the UA core of the model (`sipfsm.elements.endpoint.Endpoint`)
driven by a scripted transaction user (`sipfsm.sim.tu.ScriptedTU`, from a scenario's
``script``).

Everything the RFC gives to the UA core -- matching, the answers the core gives by itself,
the ACK of a 2xx, 2xx retransmission, the §14.1 retry -- is the Endpoint's. What is the
script's is here: when a request, response, transaction event or dialog state reaches the
TU, the steps waiting for it are scheduled (``after`` seconds later, or at ``at``), and a
step that runs sends a request, answers one or cancels through the Endpoint. A request the
script does not answer is answered 200 by default (``auto_answer``), except an initial
INVITE, which nobody answers unless a step says so.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sipfsm.elements.endpoint import Endpoint, Machines, TransactionUser, Tx
from sipfsm.sim.element import Agent, Context, RunError
from sipfsm.sim.scenario import ElementSpec, Step
from sipfsm.sim.tu import ScriptedTU
from sipfsm.values.errors import LocalProtocolError
from sipfsm.values.message import Message, Request, Response

__all__ = ["Machines", "ScriptUser", "UserAgent"]


class ScriptUser(TransactionUser):
    """The TU of a simulated UA: its scenario's script (`ScriptedTU`), whose steps run as
    timers of the simulation (key ``("step", n)``)."""

    def __init__(
        self, name: str, steps: tuple[Step, ...], auto_answer: bool, errors: list[RunError]
    ) -> None:
        self.script = ScriptedTU(steps)
        super().__init__(self.script.waits_for)
        self.name = name
        self.auto_answer = auto_answer
        self.errors = errors
        self.steps: dict[int, tuple[Step, Tx | None]] = {}
        self.count = 0
        self._c: Context  # once started

    def start(self, ctx: Context) -> None:
        self._c = ctx
        for step in self.script.timed():
            assert step.at is not None
            self.schedule(step, step.at)

    def schedule(self, step: Step, delay: float, tx: Tx | None = None) -> None:
        """Run ``step`` in ``delay`` seconds (``tx``: the transaction whose request it
        answers, if it does)."""
        self.count += 1
        n = self.count
        self.steps[n] = (step, tx)
        self._c.set_timer(("step", n), delay)

    def run(self, endpoint: Endpoint, n: int) -> None:
        """Run the step scheduled as ``n``."""
        step, tx = self.steps.pop(n)
        if endpoint.recording:
            self._c.record("tu", text=f"{step.describe()} ({step.where})")
        if step.action == "never_answer":
            return
        if step.action == "respond":
            if tx is None:
                self.error(endpoint, step.where, "there is no request to answer")
                return
            endpoint.respond(
                tx, step.code, step.body, step.headers, step.reason, step.omit_required, step.where
            )
            return
        try:
            if step.method == "CANCEL":
                endpoint.cancel(step.to, step.out_of_dialog)
            else:
                endpoint.send_request(
                    step.method,
                    step.to,
                    body=bool(step.body),
                    headers=step.headers,
                    out_of_dialog=step.out_of_dialog,
                    new_call=step.new_call,
                    to_tag=step.to_tag,
                )
        except LocalProtocolError as exc:
            self.error(endpoint, step.where, str(exc))

    # -- what the endpoint tells its TU ----------------------------------------------------------

    def request(self, endpoint: Endpoint, tx: Tx, request: Request, answered: bool) -> None:
        steps = self.script.on_request(request)
        for step in steps:
            self.schedule(step, step.after, tx)
        if answered or ScriptedTU.answers(steps) or not self.auto_answer:
            return
        if request.method == "INVITE" and not request.to_tag:
            return  # an initial INVITE nobody scripted is never answered
        if endpoint.recording:
            endpoint.note(f"answers {request.method} with 200 (unscripted)")
        endpoint.respond(tx, 200)

    def ack(self, endpoint: Endpoint, ack: Request) -> None:
        for step in self.script.on_request(ack):
            self.schedule(step, step.after)

    def cancel(self, endpoint: Endpoint, cancel: Request, tx: Tx) -> None:
        for step in self.script.on_request(cancel):
            self.schedule(step, step.after, tx)

    def response(self, endpoint: Endpoint, response: Response) -> None:
        for step in self.script.on_response(response):
            self.schedule(step, step.after)

    def event(self, endpoint: Endpoint, what: str, method: str) -> None:
        for step in self.script.on_event(what, method):
            self.schedule(step, step.after)

    def dialog(self, endpoint: Endpoint, state: str) -> None:
        for step in self.script.on_dialog(state):
            self.schedule(step, step.after)

    def error(self, endpoint: Endpoint, where: str, text: str) -> None:
        ctx = self._c
        self.errors.append(RunError(ctx.now, self.name, where, text))
        ctx.record("tu", text=f"refused ({where}): {text}")


class UserAgent(Agent):
    """A simulated UA (`sipfsm.sim.element.Element`; an `Agent`, so the simulator calls it
    directly in the compiled build): an `Endpoint` and its `ScriptUser`."""

    __slots__ = ("_name", "endpoint", "spec", "user")

    def __init__(
        self,
        spec: ElementSpec,
        steps: tuple[Step, ...],
        machines: Machines,
        *,
        seed: int = 0,
        index: int = 0,
        errors: list[RunError] | None = None,
    ) -> None:
        # (a scenario's spec is interpreted: each field read is a lookup by name, so the
        # name is read once and kept)
        self.spec = spec
        self._name = name = spec.name
        self.user = ScriptUser(name, steps, spec.auto_answer, errors if errors is not None else [])
        self.endpoint = Endpoint(
            name,
            machines,
            self.user,
            seed=seed,
            index=index,
            reject_code=spec.reject_code,
            retry_491=spec.retry_491,
            call_id_owner=spec.call_id_owner,
            outbound_proxy=spec.outbound_proxy,
            outbound_route=spec.outbound_route,
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def errors(self) -> list[RunError]:
        return self.user.errors

    def start(self, ctx: Context) -> None:
        self.endpoint.start(ctx)
        self.user.start(ctx)

    def receive(self, ctx: Context, message: Message, src: str) -> None:
        self.endpoint.receive(message, src)

    def timer(self, ctx: Context, key: Hashable) -> None:
        k: tuple[Any, ...] = key  # type: ignore[assignment]  # the keys set here
        if k[0] == "step":
            self.user.run(self.endpoint, k[1])
        else:
            self.endpoint.timer(key)

    def final_state(self) -> dict[str, Any]:
        return self.endpoint.final_state()

    def live_transactions(self) -> list[str]:
        return self.endpoint.live_transactions()

    def dialog_states(self) -> list[str]:
        return self.endpoint.dialog_states()
