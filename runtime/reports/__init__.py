"""Regulatory reports: read set-based within the reader's scope, computed by engine/reports/,
written as files (runtime/reports/README.md)."""
