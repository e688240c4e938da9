"""Who may see and do what: the org tree (org.py) and the one scope decision (scope.py).

Every service that reads or writes a record, a graph node, a picture, an export or an
idempotent replay asks scope.py; the doors (HTTP, pages, CLI) only say who is asking."""
