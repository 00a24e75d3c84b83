from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="SparseVector")


@_attrs_define
class SparseVector:
    """A sparse vector: indices (any `u32`: vocabulary ids, hashed features)
    and one weight per index. An index given twice is refused; a zero weight
    is the same as an absent index.

        Attributes:
            indices (list[int]): The indices (at most 65,536).
            values (list[float]): Their weights, finite numbers.
    """

    indices: list[int]
    values: list[float]

    def to_dict(self) -> dict[str, Any]:
        indices = self.indices

        values = self.values

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "indices": indices,
                "values": values,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        indices = cast(list[int], d.pop("indices"))

        values = cast(list[float], d.pop("values"))

        sparse_vector = cls(
            indices=indices,
            values=values,
        )

        return sparse_vector
