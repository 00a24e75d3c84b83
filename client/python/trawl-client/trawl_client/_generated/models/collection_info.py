from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.collection_info_payload_indexes import CollectionInfoPayloadIndexes
    from ..models.collection_info_vectors import CollectionInfoVectors
    from ..models.memory_info import MemoryInfo
    from ..models.text_index import TextIndex
    from ..models.vector_config import VectorConfig


T = TypeVar("T", bound="CollectionInfo")


@_attrs_define
class CollectionInfo:
    """Answer of `GET /collections/{name}`.

    Attributes:
        disk_bytes (int): Bytes on disk: write-ahead log and the sealed segments' files.
        graph_segments (int): Sealed segments, each searched through its own graph.
        indexed_points (int): Live points in sealed segments, searched through their HNSW graphs;
            the rest (recent writes, at most a segment's size once writes pause)
            are searched exactly until they are sealed.
        name (str): The collection's name.
        payload_indexes (CollectionInfoPayloadIndexes): Indexed payload fields.
        points (int): Live points.
        ram_bytes (int): Bytes held in memory: vectors or codes, graph, payloads not yet sealed, payload index, ids.
        tombstones (int): Deleted or replaced points whose data is still held (in sealed
            segments until the optimiser rewrites them).
        memory (MemoryInfo | Unset): Where a collection's bytes are.
        optimizer_status (str | Unset): `optimizing` while points wait to be sealed or segments to be merged
            (now, or once writes pause for 5 s: fewer, larger segments search
            faster), else `ok`.
        text (None | TextIndex | Unset):
        vector (None | Unset | VectorConfig):
        vectors (CollectionInfoVectors | Unset): The named vectors' schemas.
    """

    disk_bytes: int
    graph_segments: int
    indexed_points: int
    name: str
    payload_indexes: CollectionInfoPayloadIndexes
    points: int
    ram_bytes: int
    tombstones: int
    memory: MemoryInfo | Unset = UNSET
    optimizer_status: str | Unset = UNSET
    text: None | TextIndex | Unset = UNSET
    vector: None | Unset | VectorConfig = UNSET
    vectors: CollectionInfoVectors | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.text_index import TextIndex
        from ..models.vector_config import VectorConfig

        disk_bytes = self.disk_bytes

        graph_segments = self.graph_segments

        indexed_points = self.indexed_points

        name = self.name

        payload_indexes = self.payload_indexes.to_dict()

        points = self.points

        ram_bytes = self.ram_bytes

        tombstones = self.tombstones

        memory: dict[str, Any] | Unset = UNSET
        if not isinstance(self.memory, Unset):
            memory = self.memory.to_dict()

        optimizer_status = self.optimizer_status

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
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "disk_bytes": disk_bytes,
                "graph_segments": graph_segments,
                "indexed_points": indexed_points,
                "name": name,
                "payload_indexes": payload_indexes,
                "points": points,
                "ram_bytes": ram_bytes,
                "tombstones": tombstones,
            }
        )
        if memory is not UNSET:
            field_dict["memory"] = memory
        if optimizer_status is not UNSET:
            field_dict["optimizer_status"] = optimizer_status
        if text is not UNSET:
            field_dict["text"] = text
        if vector is not UNSET:
            field_dict["vector"] = vector
        if vectors is not UNSET:
            field_dict["vectors"] = vectors

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.collection_info_payload_indexes import (
            CollectionInfoPayloadIndexes,
        )
        from ..models.collection_info_vectors import CollectionInfoVectors
        from ..models.memory_info import MemoryInfo
        from ..models.text_index import TextIndex
        from ..models.vector_config import VectorConfig

        d = dict(src_dict)
        disk_bytes = d.pop("disk_bytes")

        graph_segments = d.pop("graph_segments")

        indexed_points = d.pop("indexed_points")

        name = d.pop("name")

        payload_indexes = CollectionInfoPayloadIndexes.from_dict(
            d.pop("payload_indexes")
        )

        points = d.pop("points")

        ram_bytes = d.pop("ram_bytes")

        tombstones = d.pop("tombstones")

        _memory = d.pop("memory", UNSET)
        memory: MemoryInfo | Unset
        if isinstance(_memory, Unset):
            memory = UNSET
        else:
            memory = MemoryInfo.from_dict(_memory)

        optimizer_status = d.pop("optimizer_status", UNSET)

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
        vectors: CollectionInfoVectors | Unset
        if isinstance(_vectors, Unset):
            vectors = UNSET
        else:
            vectors = CollectionInfoVectors.from_dict(_vectors)

        collection_info = cls(
            disk_bytes=disk_bytes,
            graph_segments=graph_segments,
            indexed_points=indexed_points,
            name=name,
            payload_indexes=payload_indexes,
            points=points,
            ram_bytes=ram_bytes,
            tombstones=tombstones,
            memory=memory,
            optimizer_status=optimizer_status,
            text=text,
            vector=vector,
            vectors=vectors,
        )

        collection_info.additional_properties = d
        return collection_info

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
