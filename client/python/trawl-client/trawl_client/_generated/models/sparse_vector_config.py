from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.sparse_kind import SparseKind
from ..types import UNSET, Unset

T = TypeVar("T", bound="SparseVectorConfig")


@_attrs_define
class SparseVectorConfig:
    """A sparse vector's schema: points and queries give `{"indices": [...],
    "values": [...]}` (SPLADE's term weights, or any of your own), scored by
    dot product over an inverted index.

        Attributes:
            kind (SparseKind): The kind of a sparse vector's schema.
            idf (bool | Unset): Multiply each query weight by its index's inverse document frequency
                over the collection (for weights without rarity of their own, such
                as term counts); default false.
    """

    kind: SparseKind
    idf: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind.value

        idf = self.idf

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kind": kind,
            }
        )
        if idf is not UNSET:
            field_dict["idf"] = idf

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        kind = SparseKind(d.pop("kind"))

        idf = d.pop("idf", UNSET)

        sparse_vector_config = cls(
            kind=kind,
            idf=idf,
        )

        return sparse_vector_config
