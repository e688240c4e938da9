"""A View's sections over data already loaded (engine/README.md, views/): the pure part of the 360°
page. `sections.py` applies a section's rows, where, sort, paging, columns and metrics to a subject's
record context; `pictures.py` shapes the equity tree and the guarantee network for drawing. No I/O:
the runtime room runtime/views loads the data, cut to the reader's org scope, and passes it in."""
from .pictures import Hide, equity_tree, guarantee_network, tree_rows
from .sections import (
    DEFAULT_LIMIT,
    MetricResult,
    RowsResult,
    field_values,
    metric_results,
    page_of,
    section_rows,
    sort_rows,
)

__all__ = ["DEFAULT_LIMIT", "Hide", "MetricResult", "RowsResult", "equity_tree", "field_values", "guarantee_network",
           "metric_results", "page_of", "section_rows", "sort_rows", "tree_rows"]
