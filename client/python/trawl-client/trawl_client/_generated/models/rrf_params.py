from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RrfParams")


@_attrs_define
class RrfParams:
    """Reciprocal rank fusion's parameters.

    Attributes:
        k (float | Unset): Added to every rank (default 60): larger values flatten the
            difference between the first ranks.
    """

    k: float | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        k = self.k

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if k is not UNSET:
            field_dict["k"] = k

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        k = d.pop("k", UNSET)

        rrf_params = cls(
            k=k,
        )

        return rrf_params
