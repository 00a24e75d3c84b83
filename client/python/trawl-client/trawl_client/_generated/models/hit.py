from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.hit_payload_type_0 import HitPayloadType0
    from ..models.hit_vectors import HitVectors
    from ..models.stage_score import StageScore


T = TypeVar("T", bound="Hit")


@_attrs_define
class Hit:
    """One result.

    Attributes:
        id (int | str): A point id: an unsigned integer, or a string: a UUID (any of its forms
            names the same point, returned hyphenated and lowercase) or any other
            string of 1 to 256 bytes, kept and returned exactly as given. The
            integer `17` and the string `"17"` are different ids.
        score (float): Similarity, higher is better.
        explain (list[StageScore] | None | Unset): Queries with `explain`: where each stage placed the point (stages
            that did not return it are left out).
        multivector (list[list[float]] | None | Unset): The token vectors, when asked for (multi-vector collections).
        payload (HitPayloadType0 | None | Unset): The payload, when asked for.
        vector (list[float] | None | Unset): The vector, when asked for.
        vectors (HitVectors | Unset): The named vectors it holds, when asked for.
    """

    id: int | str
    score: float
    explain: list[StageScore] | None | Unset = UNSET
    multivector: list[list[float]] | None | Unset = UNSET
    payload: HitPayloadType0 | None | Unset = UNSET
    vector: list[float] | None | Unset = UNSET
    vectors: HitVectors | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.hit_payload_type_0 import HitPayloadType0

        id: int | str
        id = self.id

        score = self.score

        explain: list[dict[str, Any]] | None | Unset
        if isinstance(self.explain, Unset):
            explain = UNSET
        elif isinstance(self.explain, list):
            explain = []
            for explain_type_0_item_data in self.explain:
                explain_type_0_item = explain_type_0_item_data.to_dict()
                explain.append(explain_type_0_item)

        else:
            explain = self.explain

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
        elif isinstance(self.payload, HitPayloadType0):
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
                "score": score,
            }
        )
        if explain is not UNSET:
            field_dict["explain"] = explain
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
        from ..models.hit_payload_type_0 import HitPayloadType0
        from ..models.hit_vectors import HitVectors
        from ..models.stage_score import StageScore

        d = dict(src_dict)

        def _parse_id(data: object) -> int | str:
            return cast(int | str, data)

        id = _parse_id(d.pop("id"))

        score = d.pop("score")

        def _parse_explain(data: object) -> list[StageScore] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                explain_type_0 = []
                _explain_type_0 = data
                for explain_type_0_item_data in _explain_type_0:
                    explain_type_0_item = StageScore.from_dict(explain_type_0_item_data)

                    explain_type_0.append(explain_type_0_item)

                return explain_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[StageScore] | None | Unset, data)

        explain = _parse_explain(d.pop("explain", UNSET))

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

        def _parse_payload(data: object) -> HitPayloadType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                payload_type_0 = HitPayloadType0.from_dict(data)

                return payload_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(HitPayloadType0 | None | Unset, data)

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
        vectors: HitVectors | Unset
        if isinstance(_vectors, Unset):
            vectors = UNSET
        else:
            vectors = HitVectors.from_dict(_vectors)

        hit = cls(
            id=id,
            score=score,
            explain=explain,
            multivector=multivector,
            payload=payload,
            vector=vector,
            vectors=vectors,
        )

        hit.additional_properties = d
        return hit

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
