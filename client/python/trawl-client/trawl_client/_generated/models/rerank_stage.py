from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RerankStage")


@_attrs_define
class RerankStage:
    """The last stage of a query: the first `limit` candidates of the stages
    (fused, if several) scored exactly on the vector `using` (brute force:
    full-precision vectors, or Chamfer over token vectors) with the query
    given here, or with the query's top-level `text` when none is.

        Attributes:
            limit (int | None | Unset): Candidates rescored (default 100, or the query's `limit` if larger).
            multivector (list[list[float]] | None | Unset): Query token vectors.
            text (None | str | Unset): A query text, embedded with the vector's encoder.
            using (None | str | Unset): The vector scored (`""`, the default, is the collection's `vector`).
            vector (list[float] | None | Unset): A query vector.
    """

    limit: int | None | Unset = UNSET
    multivector: list[list[float]] | None | Unset = UNSET
    text: None | str | Unset = UNSET
    using: None | str | Unset = UNSET
    vector: list[float] | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        limit: int | None | Unset
        if isinstance(self.limit, Unset):
            limit = UNSET
        else:
            limit = self.limit

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

        text: None | str | Unset
        if isinstance(self.text, Unset):
            text = UNSET
        else:
            text = self.text

        using: None | str | Unset
        if isinstance(self.using, Unset):
            using = UNSET
        else:
            using = self.using

        vector: list[float] | None | Unset
        if isinstance(self.vector, Unset):
            vector = UNSET
        elif isinstance(self.vector, list):
            vector = self.vector

        else:
            vector = self.vector

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if limit is not UNSET:
            field_dict["limit"] = limit
        if multivector is not UNSET:
            field_dict["multivector"] = multivector
        if text is not UNSET:
            field_dict["text"] = text
        if using is not UNSET:
            field_dict["using"] = using
        if vector is not UNSET:
            field_dict["vector"] = vector

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_limit(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        limit = _parse_limit(d.pop("limit", UNSET))

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

        def _parse_text(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        text = _parse_text(d.pop("text", UNSET))

        def _parse_using(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        using = _parse_using(d.pop("using", UNSET))

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

        rerank_stage = cls(
            limit=limit,
            multivector=multivector,
            text=text,
            using=using,
            vector=vector,
        )

        return rerank_stage
