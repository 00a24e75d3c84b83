from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.create_collection_payload_indexes import (
        CreateCollectionPayloadIndexes,
    )
    from ..models.create_collection_vectors import CreateCollectionVectors
    from ..models.text_index import TextIndex
    from ..models.vector_config import VectorConfig


T = TypeVar("T", bound="CreateCollection")


@_attrs_define
class CreateCollection:
    """Body of `PUT /collections/{name}`.

    Attributes:
        payload_indexes (CreateCollectionPayloadIndexes | Unset): Payload fields to index, with their types.
        text (None | TextIndex | Unset):
        vector (None | Unset | VectorConfig):
        vectors (CreateCollectionVectors | Unset): Named vectors (letters, digits, `_` and `-`, at most 64 bytes),
            dense or `{"kind": "sparse"}`; a point holds any of them. At least
            one of `vector` and `vectors`.
    """

    payload_indexes: CreateCollectionPayloadIndexes | Unset = UNSET
    text: None | TextIndex | Unset = UNSET
    vector: None | Unset | VectorConfig = UNSET
    vectors: CreateCollectionVectors | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.text_index import TextIndex
        from ..models.vector_config import VectorConfig

        payload_indexes: dict[str, Any] | Unset = UNSET
        if not isinstance(self.payload_indexes, Unset):
            payload_indexes = self.payload_indexes.to_dict()

        text: dict[str, Any] | None | Unset
        if isinstance(self.text, Unset):
            text = UNSET
        elif isinstance(self.text, TextIndex):
            text = self.text.to_dict()
        else:
            text = self.text

        vector: dict[str, Any] | None | Unset
        if isinstance(self.vector, Unset):
            vector = UNSET
        elif isinstance(self.vector, VectorConfig):
            vector = self.vector.to_dict()
        else:
            vector = self.vector

        vectors: dict[str, Any] | Unset = UNSET
        if not isinstance(self.vectors, Unset):
            vectors = self.vectors.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if payload_indexes is not UNSET:
            field_dict["payload_indexes"] = payload_indexes
        if text is not UNSET:
            field_dict["text"] = text
        if vector is not UNSET:
            field_dict["vector"] = vector
        if vectors is not UNSET:
            field_dict["vectors"] = vectors

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.create_collection_payload_indexes import (
            CreateCollectionPayloadIndexes,
        )
        from ..models.create_collection_vectors import CreateCollectionVectors
        from ..models.text_index import TextIndex
        from ..models.vector_config import VectorConfig

        d = dict(src_dict)
        _payload_indexes = d.pop("payload_indexes", UNSET)
        payload_indexes: CreateCollectionPayloadIndexes | Unset
        if isinstance(_payload_indexes, Unset):
            payload_indexes = UNSET
        else:
            payload_indexes = CreateCollectionPayloadIndexes.from_dict(_payload_indexes)

        def _parse_text(data: object) -> None | TextIndex | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                text_type_1 = TextIndex.from_dict(data)

                return text_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TextIndex | Unset, data)

        text = _parse_text(d.pop("text", UNSET))

        def _parse_vector(data: object) -> None | Unset | VectorConfig:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                vector_type_1 = VectorConfig.from_dict(data)

                return vector_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | VectorConfig, data)

        vector = _parse_vector(d.pop("vector", UNSET))

        _vectors = d.pop("vectors", UNSET)
        vectors: CreateCollectionVectors | Unset
        if isinstance(_vectors, Unset):
            vectors = UNSET
        else:
            vectors = CreateCollectionVectors.from_dict(_vectors)

        create_collection = cls(
            payload_indexes=payload_indexes,
            text=text,
            vector=vector,
            vectors=vectors,
        )

        return create_collection
