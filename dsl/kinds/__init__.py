"""Every kind Banyan knows; importing this package registers them all."""
from . import (  # noqa: F401,E401
    alert_rule,
    calendar,
    channel,
    entity,  # noqa: F401
    flow,
    form,
    org_unit,
    role,
    test_suite,
    tiering,
    view,
)
from .registry import KINDS, KindDef, register  # noqa: F401
