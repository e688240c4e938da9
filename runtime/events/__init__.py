"""Events from outside: the intake every door calls (runtime/events/intake.py) and the Redis
Streams consumer (runtime/events/stream.py)."""
