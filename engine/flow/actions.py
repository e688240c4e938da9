"""Automatic actions of action and end nodes: set form fields, notify, start another flow,
call a webhook, write a record (engine/flow/record_write.py). Each is an effect; `set` also
changes the instance's form at once, so the nodes after it see the new values."""
from __future__ import annotations

from typing import Iterable

from dsl.kinds.actions import Action
from dsl.kinds.actions import Notify as NotifyAction
from dsl.kinds.actions import SetFields as SetAction
from dsl.kinds.actions import StartFlow as StartAction
from dsl.kinds.actions import Webhook as WebhookAction
from dsl.kinds.record_action import WriteRecord

from .effects import Notify, SetFields, StartFlow, Webhook
from .record_write import plan_record
from .work import Work


def run_actions(work: Work, actions: Iterable[Action], node: str) -> None:
    for action in actions:
        if action.when is not None and work.evaluate(action.when) is not True:
            continue
        effect = action.effect
        if isinstance(effect, SetAction):
            values = {key: work.evaluate(expr) for key, expr in effect.values}
            work.set_form(values)
            work.effects.append(SetFields(values))
        elif isinstance(effect, NotifyAction):
            users = tuple(work.users(effect.to)) if effect.to is not None else ()
            work.effects.append(Notify(users, effect.template, effect.channels, effect.roles, node))
        elif isinstance(effect, StartAction):
            subject = work.evaluate(effect.subject) if effect.subject is not None else work.ctx.subject
            work.effects.append(StartFlow(effect.flow, subject, {k: work.evaluate(e) for k, e in effect.input}))
        elif isinstance(effect, WebhookAction):
            work.effects.append(Webhook(effect.channel, effect.template))
        elif isinstance(effect, WriteRecord):
            plan_record(work, effect, node)
        work.event("action", node, action=action.kind)
