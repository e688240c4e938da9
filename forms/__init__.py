"""The generic form renderer: Entity/Form IR → HTML, posted data → typed values, the same
compiled rules on the server and (as JSON trees) in the browser. Imports `dsl/`, never `runtime/`.

    spec = FormSpec.of_entity(entity)            # or FormSpec.of_form(form)
    values, problems = parse(spec, Submitted.of(pairs), "zh")
    outcome = validate(spec, values, "zh")        # hidden cleared, every rule re-checked
    html = render_form(spec, values, raw=..., outcome=outcome, options=RenderOptions(lang="zh"))
"""
from pathlib import Path

from .client import program, translate
from .display import display_text, input_text
from .render import read_view, render_form
from .rules import Outcome, validate
from .spec import FieldSpec, FormSpec, SectionSpec, TabSpec
from .values import FieldError, FileLimits, Submitted, UploadedFile, parse
from .views import RenderOptions

STATIC_DIR = Path(__file__).resolve().parent / "static"

__all__ = ["FieldError", "FieldSpec", "FileLimits", "FormSpec", "Outcome", "RenderOptions", "STATIC_DIR",
           "SectionSpec", "Submitted", "TabSpec", "UploadedFile", "display_text", "input_text", "parse", "program",
           "read_view", "render_form", "translate", "validate"]
