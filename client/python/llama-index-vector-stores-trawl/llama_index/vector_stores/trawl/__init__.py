"""LlamaIndex integration of Trawl, the embedding retrieval server.

:class:`TrawlVectorStore` is a LlamaIndex ``BasePydanticVectorStore`` on a
Trawl collection; :class:`TrawlEmbedding` is a LlamaIndex embedding
computed by the server's model.
"""

from llama_index.vector_stores.trawl.base import TrawlVectorStore
from llama_index.vector_stores.trawl.embeddings import TrawlEmbedding

__all__ = ["TrawlEmbedding", "TrawlVectorStore"]
