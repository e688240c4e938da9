"""Every kind Banyan knows; importing this package registers them all."""
from . import entity  # noqa: F401
from .registry import KINDS, KindDef, register  # noqa: F401
from . import org_unit, role, channel, form, flow, tiering, alert_rule, view, test_suite  # noqa: F401,E401
