from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.point_record_payload_type_0 import PointRecordPayloadType0
    from ..models.point_record_vectors import PointRecordVectors


T = TypeVar("T", bound="PointRecord")


@_attrs_define
class PointRecord:
    """Answer of `GET /collections/{name}/points/{id}`.

    Attributes:
        id (int | str): A point id: an unsigned integer, or a string: a UUID (any of its forms
            names the same point, returned hyphenated and lowercase) or any other
            string of 1 to 256 bytes, kept and returned exactly as given. The
            integer `17` and the string `"17"` are different ids.
        multivector (list[list[float]] | None | Unset): The stored token vectors (multi-vector collections).
        payload (None | PointRecordPayloadType0 | Unset): The payload.
        vector (list[float] | None | Unset): The stored vector.
        vectors (PointRecordVectors | Unset): The stored named vectors it holds, by name.
    """

    id: int | str
    multivector: list[list[float]] | None | Unset = UNSET
    payload: None | PointRecordPayloadType0 | Unset = UNSET
    vector: list[float] | None | Unset = UNSET
    vectors: PointRecordVectors | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.point_record_payload_type_0 import PointRecordPayloadType0

        id: int | str
        id = self.id

        multivector: list[list[float]] | None | Unset
        if isinstance(self.multivector, Unset):
            multivector = UNSET
        elif isinstance(self.multivector, list):
            multivector = []
            for multivector_type_0_item_data in self.multivector:
                multivector_type_0_item = multivector_type_0_item_data

                multivector.append(multivector_type_0_item)

        else:
            multivector = self.multivector

        payload: dict[str, Any] | None | Unset
        if isinstance(self.payload, Unset):
            payload = UNSET
        elif isinstance(self.payload, PointRecordPayloadType0):
            payload = self.payload.to_dict()
        else:
            payload = self.payload

        vector: list[float] | None | Unset
        if isinstance(self.vector, Unset):
            vector = UNSET
        elif isinstance(self.vector, list):
            vector = self.vector

        else:
            vector = self.vector

        vectors: dict[str, Any] | Unset = UNSET
        if not isinstance(self.vectors, Unset):
            vectors = self.vectors.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
            }
        )
        if multivector is not UNSET:
            field_dict["multivector"] = multivector
        if payload is not UNSET:
            field_dict["payload"] = payload
        if vector is not UNSET:
            field_dict["vector"] = vector
        if vectors is not UNSET:
            field_dict["vectors"] = vectors

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.point_record_payload_type_0 import PointRecordPayloadType0
        from ..models.point_record_vectors import PointRecordVectors

        d = dict(src_dict)

        def _parse_id(data: object) -> int | str:
            return cast(int | str, data)

        id = _parse_id(d.pop("id"))

        def _parse_multivector(data: object) -> list[list[float]] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                multivector_type_0 = []
                _multivector_type_0 = data
                for multivector_type_0_item_data in _multivector_type_0:
                    multivector_type_0_item = cast(
                        list[float], multivector_type_0_item_data
                    )

                    multivector_type_0.append(multivector_type_0_item)

                return multivector_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[list[float]] | None | Unset, data)

        multivector = _parse_multivector(d.pop("multivector", UNSET))

        def _parse_payload(data: object) -> None | PointRecordPayloadType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                payload_type_0 = PointRecordPayloadType0.from_dict(data)

                return payload_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PointRecordPayloadType0 | Unset, data)

        payload = _parse_payload(d.pop("payload", UNSET))

        def _parse_vector(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                vector_type_0 = cast(list[float], data)

                return vector_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        vector = _parse_vector(d.pop("vector", UNSET))

        _vectors = d.pop("vectors", UNSET)
        vectors: PointRecordVectors | Unset
        if isinstance(_vectors, Unset):
            vectors = UNSET
        else:
            vectors = PointRecordVectors.from_dict(_vectors)

        point_record = cls(
            id=id,
            multivector=multivector,
            payload=payload,
            vector=vector,
            vectors=vectors,
        )

        point_record.additional_properties = d
        return point_record

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
