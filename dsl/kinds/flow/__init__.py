"""The Flow kind: its schema, nodes and steps, the IR the engine runs, and its verification
(graph checks and the token game). `kind` registers the kind."""
from dsl.kinds.flow import kind  # noqa: F401
