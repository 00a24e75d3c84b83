"""LangChain integration of Trawl, the embedding retrieval server.

:class:`TrawlVectorStore` is a LangChain ``VectorStore`` on a Trawl
collection (vectors computed by any LangChain ``Embeddings``, or by the
server's own model); :class:`TrawlEmbeddings` is a LangChain
``Embeddings`` computed by the server's model.
"""

from importlib.metadata import PackageNotFoundError, version

from .embeddings import TrawlEmbeddings
from .vectorstores import TrawlVectorStore

try:
    __version__ = version("langchain-trawl")
except PackageNotFoundError:  # imported from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["TrawlEmbeddings", "TrawlVectorStore", "__version__"]
