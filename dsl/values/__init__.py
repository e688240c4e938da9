"""One value model for every door: a person's input (a JSON value, CLI text, a spreadsheet cell,
posted form text) for a field → the runtime value of dsl/expr/types.py, or one error, `BadValue`,
whose words are the `values.*` entries of dsl/messages.yaml; and the writing half, `write_value`, so
what a door sends out reads back as the same value (a percent goes out as its points, "70").
Pure: stdlib only, no database."""
from .choices import (
           DURATION_UNITS,
           FALSE_WORDS,
           TRUE_WORDS,
           Choices,
           read_bool,
           read_duration,
           read_reference,
           read_text,
)
from .dates import excel_serial, read_date, read_datetime
from .errors import BadValue, shown
from .numbers import UNITS, ascii_text, read_amount, read_decimal, read_integer, read_percent
from .reader import SOURCES, bank_zone, is_blank, read_value, value_reader
from .writer import percent_fields, percent_points, write_record, write_value

__all__ = ["BadValue", "Choices", "DURATION_UNITS", "FALSE_WORDS", "SOURCES", "TRUE_WORDS", "UNITS", "ascii_text",
           "bank_zone", "excel_serial", "is_blank", "percent_fields", "percent_points", "read_amount", "read_bool",
           "read_date", "read_datetime", "read_decimal", "read_duration", "read_integer", "read_percent",
           "read_reference", "read_text", "read_value", "shown", "value_reader", "write_record", "write_value"]
