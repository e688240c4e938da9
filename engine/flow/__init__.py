"""The flow engine: `apply(flow, state, command, ctx) -> Result(state, effects, events)`.

Pure and durable by design: the state is a small immutable value that round-trips through
JSON (`to_json` / `from_json`), holds only what is alive, and the history leaves as events."""
from .apply import apply
from .calendar import WEEKDAYS, BusinessCalendar, Calendar, CalendarNotCovered
from .codec import from_json, to_json
from .commands import (
                       AddSigner,
                       Approve,
                       Cancel,
                       Cc,
                       Claim,
                       Command,
                       Comment,
                       Complete,
                       Delegate,
                       EventOccurred,
                       Reject,
                       RemoveSigner,
                       Resubmit,
                       Return,
                       Start,
                       SubflowEnded,
                       TimerFired,
                       Transfer,
                       Urge,
                       Withdraw,
)
from .directory import Directory, StaticDirectory, resolve_users
from .effects import (
                       CancelSubflow,
                       ClearTimer,
                       CloseTask,
                       CreateTask,
                       Event,
                       Finished,
                       Notify,
                       Result,
                       SetFields,
                       SetTimer,
                       StartFlow,
                       StartSubflow,
                       UpdateTask,
                       Webhook,
)
from .errors import CommandRejected
from .state import FlowInstance, Handoff, Split, Step, Task, Timer, Token
from .work import FlowContext

__all__ = [
    "apply", "FlowContext", "CommandRejected", "to_json", "from_json",
    "FlowInstance", "Token", "Step", "Task", "Split", "Timer", "Handoff",
    "Command", "Start", "Claim", "Approve", "Reject", "Complete", "Comment", "Return", "Resubmit", "Withdraw", "Transfer",
    "Delegate", "AddSigner", "RemoveSigner", "Urge", "Cc", "Cancel", "TimerFired", "EventOccurred", "SubflowEnded",
    "CreateTask", "UpdateTask", "CloseTask", "Notify", "SetTimer", "ClearTimer", "StartSubflow", "CancelSubflow",
    "StartFlow", "SetFields", "Webhook", "Finished", "Event", "Result",
    "Calendar", "BusinessCalendar", "CalendarNotCovered", "WEEKDAYS", "Directory", "StaticDirectory", "resolve_users",
]
