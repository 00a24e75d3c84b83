"""Requests of the API, described once for the sync and the async client.

Each function here builds a :class:`Call`: the generated endpoint module
(which knows the method, the path and how to read the answer), its arguments
with the JSON body, and how the parsed answer becomes the value a
:class:`~trawl_client.Trawl` or :class:`~trawl_client.AsyncTrawl` method
returns. Bodies are sent as given: mappings pass through unchanged, generated
models are serialised with their ``to_dict()``, and the server checks every
field (its 422 answers name the field at fault).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

import httpx

from ._generated.api.collections import create as _create_collection
from ._generated.api.collections import delete as _delete_collection
from ._generated.api.collections import get as _get_aliases
from ._generated.api.collections import info as _collection_info
from ._generated.api.collections import list_ as _list_collections
from ._generated.api.collections import update as _update_aliases
from ._generated.api.embed import embed as _embed
from ._generated.api.embed import embeddings as _embeddings
from ._generated.api.embed import model as _model
from ._generated.api.embed import models as _models
from ._generated.api.ops import healthz as _healthz
from ._generated.api.ops import readyz as _readyz
from ._generated.api.points import count as _count
from ._generated.api.points import delete as _delete_points
from ._generated.api.points import delete_payload_keys as _delete_payload_keys
from ._generated.api.points import facet as _facet
from ._generated.api.points import get_operation as _get_operation
from ._generated.api.points import get_point as _get_point
from ._generated.api.points import replace_payload as _replace_payload
from ._generated.api.points import scroll as _scroll
from ._generated.api.points import set_payload as _set_payload
from ._generated.api.points import upsert as _upsert
from ._generated.api.search import batch as _search_batch
from ._generated.api.search import query as _query
from ._generated.api.search import search as _search
from ._generated.api.snapshots import create as _create_snapshot
from ._generated.api.snapshots import delete as _delete_snapshot
from ._generated.api.snapshots import download as _download_snapshot
from ._generated.api.snapshots import list_ as _list_snapshots
from ._generated.api.snapshots import restore as _restore_snapshot
from ._generated.client import Client
from ._generated.models import (
    AliasEntry,
    CollectionAck,
    CollectionInfo,
    CollectionSummary,
    EmbedResponse,
    FacetValue,
    Health,
    OpenAiEmbeddingsResponse,
    OpenAiModel,
    Operation,
    PointRecord,
    Readiness,
    RestoreAck,
    ScrollResponse,
    SearchResponse,
    SnapshotAck,
    SnapshotDeleted,
    SnapshotDescription,
    UpsertResult,
)
from ._generated.types import File
from .errors import TrawlError

T = TypeVar("T")

PointId = int | str
"""A point id: an unsigned integer, or a string (a UUID or any other string)."""


class Model(Protocol):
    """A generated model (anything with ``to_dict()``)."""

    def to_dict(self) -> dict[str, Any]: ...


Json = Mapping[str, Any] | Model
"""A JSON object: a mapping in the API's JSON shape, or a generated model."""


class _Body:
    """A request body already in JSON form (the generated endpoints call ``to_dict()``)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def to_dict(self) -> dict[str, Any]:
        return self._data


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request to the API and how to read its answer.

    Attributes:
        endpoint: A generated endpoint module (``_get_kwargs`` builds the
            request, ``_parse_response`` reads the answer).
        args: Positional arguments of ``_get_kwargs`` (path parameters).
        kwargs: Its keyword arguments (body, query parameters).
        result: Turns the parsed answer into the returned value.
        accept: Statuses of 400 and above that are answers, not errors.
        headers: Headers added to the request.
    """

    endpoint: Any
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    result: Callable[[Any], T] = lambda parsed: parsed
    accept: frozenset[int] = frozenset()
    headers: Mapping[str, str] = field(default_factory=dict)

    def request(self) -> dict[str, Any]:
        """The arguments of ``httpx.Client.request``."""
        request = self.endpoint._get_kwargs(*self.args, **self.kwargs)
        if self.headers:
            request["headers"] = {**request.get("headers", {}), **self.headers}
        return request

    def finish(self, client: Client, response: httpx.Response) -> T:
        """The returned value, or :class:`TrawlError` for an error answer."""
        status = response.status_code
        if status >= 400 and status not in self.accept:
            raise TrawlError.from_response(response)
        parsed = self.endpoint._parse_response(client=client, response=response)
        if parsed is None:
            raise TrawlError(
                status,
                "unexpected_status",
                f"the server answered {status}, which its API document does not list here",
            )
        return self.result(parsed)


def to_json(value: Any) -> Any:
    """The JSON form of a value: generated models through ``to_dict()``,
    enums as their values, mappings and sequences item by item, numpy arrays
    and scalars through ``tolist()``."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if hasattr(value, "tolist"):
        # numpy arrays and scalars (vectors from most embedding libraries).
        return value.tolist()
    return value


def body(**fields: Any) -> _Body:
    """A JSON body of the fields that are not ``None``."""
    return _Body({key: to_json(value) for key, value in fields.items() if value is not None})


def point_path(id: PointId) -> str:
    """A point id as a path segment: digits name an integer id."""
    if isinstance(id, bool) or not isinstance(id, (int, str)):
        raise TypeError(f"a point id is an int or a str, not {type(id).__name__}")
    if isinstance(id, str) and id.isdigit():
        raise ValueError(
            f"the string id {id!r} is made of digits, which the path reads as an integer id: "
            "use get_points([...]) (a scroll with a has_id filter) for it"
        )
    return str(id)


def _field(name: str) -> Callable[[Any], Any]:
    return lambda parsed: getattr(parsed, name)


# Service.


def health() -> Call[Health]:
    return Call(_healthz)


def readiness() -> Call[Readiness]:
    return Call(_readyz, accept=frozenset({503}))


# Collections.


def create_collection(
    name: str,
    vector: Json | None,
    vectors: Mapping[str, Json] | None,
    payload_indexes: Mapping[str, str] | None,
    text: Json | bool | None,
) -> Call[CollectionAck]:
    if vector is None and vectors is None:
        vector = {}
    if text is True:
        text = {}
    elif text is False:
        text = None
    return Call(
        _create_collection,
        (name,),
        {"body": body(vector=vector, vectors=vectors, payload_indexes=payload_indexes, text=text)},
    )


def get_collection(name: str) -> Call[CollectionInfo]:
    return Call(_collection_info, (name,))


def list_collections() -> Call[list[CollectionSummary]]:
    return Call(_list_collections, result=_field("collections"))


def delete_collection(name: str) -> Call[CollectionAck]:
    return Call(_delete_collection, (name,))


def list_aliases() -> Call[list[AliasEntry]]:
    return Call(_get_aliases, result=_field("aliases"))


def update_aliases(actions: Sequence[Json]) -> Call[list[AliasEntry]]:
    return Call(
        _update_aliases, kwargs={"body": body(actions=list(actions))}, result=_field("aliases")
    )


# Points.


def upsert(collection: str, points: Iterable[Json], wait: bool) -> Call[UpsertResult | Operation]:
    return Call(_upsert, (collection,), {"body": body(points=list(points)), "wait": wait})


def get_point(collection: str, id: PointId) -> Call[PointRecord]:
    return Call(_get_point, (collection, point_path(id)))


def get_operation(id: str) -> Call[Operation]:
    return Call(_get_operation, (id,))


def delete_points(collection: str, ids: Sequence[PointId] | None, filter: Json | None) -> Call[int]:
    return Call(
        _delete_points,
        (collection,),
        {"body": body(ids=None if ids is None else list(ids), filter=filter)},
        _field("deleted"),
    )


def set_payload(
    collection: str,
    payload: Mapping[str, Any],
    ids: Sequence[PointId] | None,
    filter: Json | None,
    replace: bool,
) -> Call[int]:
    return Call(
        _replace_payload if replace else _set_payload,
        (collection,),
        {
            "body": body(
                payload=dict(payload), ids=None if ids is None else list(ids), filter=filter
            )
        },
        _field("updated"),
    )


def delete_payload(
    collection: str, keys: Sequence[str], ids: Sequence[PointId] | None, filter: Json | None
) -> Call[int]:
    return Call(
        _delete_payload_keys,
        (collection,),
        {"body": body(keys=list(keys), ids=None if ids is None else list(ids), filter=filter)},
        _field("updated"),
    )


def scroll(
    collection: str,
    filter: Json | None,
    limit: int | None,
    cursor: str | None,
    with_payload: bool | None,
    with_vectors: bool | None,
) -> Call[ScrollResponse]:
    return Call(
        _scroll,
        (collection,),
        {
            "body": body(
                filter=filter,
                limit=limit,
                cursor=cursor,
                with_payload=with_payload,
                with_vectors=with_vectors,
            )
        },
    )


def has_id(ids: Sequence[PointId], filter: Json | None = None) -> dict[str, Any]:
    """A filter for these ids (and ``filter``, if given)."""
    condition = {"has_id": list(ids)}
    if filter is None:
        return {"must": [condition]}
    return {"must": [condition, to_json(filter)]}


def count(collection: str, filter: Json | None, exact: bool | None) -> Call[int]:
    return Call(_count, (collection,), {"body": body(filter=filter, exact=exact)}, _field("count"))


def facet(
    collection: str, key: str, filter: Json | None, limit: int | None
) -> Call[list[FacetValue]]:
    return Call(
        _facet, (collection,), {"body": body(key=key, filter=filter, limit=limit)}, _field("values")
    )


# Search.


def search(collection: str, fields: dict[str, Any]) -> Call[SearchResponse]:
    return Call(_search, (collection,), {"body": body(**fields)})


def search_batch(collection: str, searches: Sequence[Json]) -> Call[list[SearchResponse]]:
    return Call(
        _search_batch, (collection,), {"body": body(searches=list(searches))}, _field("results")
    )


def query(collection: str, fields: dict[str, Any]) -> Call[SearchResponse]:
    return Call(_query, (collection,), {"body": body(**fields)})


# Embeddings.


def embed(
    inputs: str | Sequence[str],
    kind: str | None,
    dims: int | None,
    bits: int | None,
    binary_encoding: str | None,
) -> Call[EmbedResponse]:
    texts = [inputs] if isinstance(inputs, str) else list(inputs)
    return Call(
        _embed,
        kwargs={
            "body": body(
                inputs=texts, kind=kind, dims=dims, bits=bits, binary_encoding=binary_encoding
            )
        },
    )


Input = str | Sequence[str] | Sequence[int] | Sequence[Sequence[int]]
"""``/v1/embeddings``' input: a text, texts, or token ids (one list, or a list of lists)."""


def embeddings(
    input: Input,
    model: str | None,
    dimensions: int | None,
    encoding_format: str | None,
) -> Call[OpenAiEmbeddingsResponse]:
    return Call(
        _embeddings,
        kwargs={
            "body": body(
                input=input if isinstance(input, str) else list(input),
                model=model,
                dimensions=dimensions,
                encoding_format=encoding_format,
            )
        },
    )


def list_models() -> Call[list[OpenAiModel]]:
    return Call(_models, result=_field("data"))


def get_model(model: str) -> Call[OpenAiModel]:
    return Call(_model, (model,))


# Snapshots.


def create_snapshot(collection: str) -> Call[SnapshotAck]:
    return Call(_create_snapshot, (collection,))


def list_snapshots(collection: str) -> Call[list[SnapshotDescription]]:
    return Call(_list_snapshots, (collection,), result=_field("snapshots"))


def delete_snapshot(collection: str, snapshot: str) -> Call[SnapshotDeleted]:
    return Call(_delete_snapshot, (collection, snapshot))


def restore_snapshot(collection: str, content: Any, size: int) -> Call[RestoreAck]:
    """Uploads ``size`` bytes read from ``content`` (a binary file for the
    sync client, an async iterator of bytes for the async one)."""
    return Call(
        _restore_snapshot,
        (collection,),
        {"body": File(payload=content)},
        headers={"Content-Length": str(size)},
    )


def download_snapshot(collection: str, snapshot: str) -> dict[str, Any]:
    """The arguments of ``httpx.Client.stream`` for a snapshot's archive."""
    return _download_snapshot._get_kwargs(collection, snapshot)
