"""The 360° view's tests run on the small two-branch bank of tests/web/test_graph_scope.py."""
from tests.web.test_graph_scope import everyone, graph_app, graph_bank, sh  # noqa: F401 - the fixtures, shared
