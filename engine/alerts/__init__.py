"""Alert rules, pure: grade a subject (`evaluate`) and decide what that does to its open alert
(`decide`). No I/O and no clock: the runtime passes the record context, the time and the bank's
calendar (runtime/alerts/ is the shell)."""
from engine.alerts.evaluate import Finding, evaluate
from engine.alerts.lifecycle import Current, Step, decide, due_at
from engine.alerts.rollup import roll_up, rolled_grade

__all__ = ["Current", "Finding", "Step", "decide", "due_at", "evaluate", "roll_up", "rolled_grade"]
