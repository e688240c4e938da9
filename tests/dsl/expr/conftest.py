from .expr_helpers import company  # noqa: F401  (fixture)
