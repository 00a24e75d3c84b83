"""A Python client of Trawl, the embedding retrieval server.

:class:`Trawl` (blocking) and :class:`AsyncTrawl` (asyncio) have one method
per route of the REST API (docs/api.md), plus :meth:`Trawl.iter_points`
(a scroll followed to its end) and :meth:`Trawl.upsert_batched` (an upsert
from any iterable, in batches, with a progress bar). Answers are the models
of :mod:`trawl_client.models`, generated from the server's OpenAPI document
by ``scripts/gen-python-client``; an error answer raises :class:`TrawlError`.

>>> from trawl_client import Trawl
>>> trawl = Trawl("http://127.0.0.1:6390")  # doctest: +SKIP
>>> trawl.search("docs", text="someone eats", limit=2)  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

from ._calls import PointId
from ._connection import DEFAULT_URL
from .async_client import AsyncTrawl
from .errors import TrawlError
from .sync_client import Trawl

try:
    __version__ = version("trawl-client")
except PackageNotFoundError:  # imported from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["DEFAULT_URL", "AsyncTrawl", "PointId", "Trawl", "TrawlError", "__version__"]
