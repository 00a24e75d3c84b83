"""The request and answer models of the API, generated from the server's
OpenAPI document (``trawl_client/_generated/models``; see
``scripts/gen-python-client``).

Each is an ``attrs`` class with ``to_dict()`` and ``from_dict()``; fields
the server left out hold ``UNSET``, which is false in a boolean test.
Members of the API's untagged unions have names of their own: a filter's
conditions are ``ConditionMatch``, ``ConditionRange``, ``ConditionExists``,
``ConditionHasId`` (or a nested ``Filter``), with ``MatchEquals``,
``MatchAny`` or ``MatchText``; a fusion is a ``FusionName``, ``FusionRrf``
or ``FusionWeights``.
"""

from ._generated.models import *  # noqa: F403
from ._generated.models import __all__ as _generated
from ._generated.types import UNSET, File, Unset

__all__ = [*_generated, "UNSET", "File", "Unset"]
