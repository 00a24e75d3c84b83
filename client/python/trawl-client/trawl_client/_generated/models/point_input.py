from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.point_input_payload_type_0 import PointInputPayloadType0
    from ..models.point_input_vectors import PointInputVectors


T = TypeVar("T", bound="PointInput")


@_attrs_define
class PointInput:
    """One point to upsert: an id, its vectors (the unnamed one as exactly one
    of `vector`, `text` or `multivector`; named ones in `vectors`; `text`
    also fills every named vector with an `encoder` not given), and an
    optional payload.

        Attributes:
            id (int | str): A point id: an unsigned integer, or a string: a UUID (any of its forms
                names the same point, returned hyphenated and lowercase) or any other
                string of 1 to 256 bytes, kept and returned exactly as given. The
                integer `17` and the string `"17"` are different ids.
            multivector (list[list[float]] | None | Unset): Token vectors, for multi-vector collections.
            payload (None | PointInputPayloadType0 | Unset): The payload.
            text (None | str | Unset): Text, embedded by the server with the collection's encoder.
            vector (list[float] | None | Unset): The vector, with the collection's dimension.
            vectors (PointInputVectors | Unset): Named vectors, by name.
    """

    id: int | str
    multivector: list[list[float]] | None | Unset = UNSET
    payload: None | PointInputPayloadType0 | Unset = UNSET
    text: None | str | Unset = UNSET
    vector: list[float] | None | Unset = UNSET
    vectors: PointInputVectors | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.point_input_payload_type_0 import PointInputPayloadType0

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
        elif isinstance(self.payload, PointInputPayloadType0):
            payload = self.payload.to_dict()
        else:
            payload = self.payload

        text: None | str | Unset
        if isinstance(self.text, Unset):
            text = UNSET
        else:
            text = self.text

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

        field_dict.update(
            {
                "id": id,
            }
        )
        if multivector is not UNSET:
            field_dict["multivector"] = multivector
        if payload is not UNSET:
            field_dict["payload"] = payload
        if text is not UNSET:
            field_dict["text"] = text
        if vector is not UNSET:
            field_dict["vector"] = vector
        if vectors is not UNSET:
            field_dict["vectors"] = vectors

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.point_input_payload_type_0 import PointInputPayloadType0
        from ..models.point_input_vectors import PointInputVectors

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

        def _parse_payload(data: object) -> None | PointInputPayloadType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                payload_type_0 = PointInputPayloadType0.from_dict(data)

                return payload_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PointInputPayloadType0 | Unset, data)

        payload = _parse_payload(d.pop("payload", UNSET))

        def _parse_text(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        text = _parse_text(d.pop("text", UNSET))

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
        vectors: PointInputVectors | Unset
        if isinstance(_vectors, Unset):
            vectors = UNSET
        else:
            vectors = PointInputVectors.from_dict(_vectors)

        point_input = cls(
            id=id,
            multivector=multivector,
            payload=payload,
            text=text,
            vector=vector,
            vectors=vectors,
        )

        return point_input
