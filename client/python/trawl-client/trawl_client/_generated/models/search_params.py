from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SearchParams")


@_attrs_define
class SearchParams:
    """Search tuning.

    Attributes:
        ef (int | None | Unset): HNSW `ef` (default: chosen by the planner from `limit` and the filter's selectivity).
        exact (bool | Unset): Brute force over every matching point (perfect recall).
        oversample (float | None | Unset): Candidates per result to rerank, for compact layouts (at least 1).
        rerank (bool | None | Unset): Rerank candidates with full-precision vectors (default true).
    """

    ef: int | None | Unset = UNSET
    exact: bool | Unset = UNSET
    oversample: float | None | Unset = UNSET
    rerank: bool | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        ef: int | None | Unset
        if isinstance(self.ef, Unset):
            ef = UNSET
        else:
            ef = self.ef

        exact = self.exact

        oversample: float | None | Unset
        if isinstance(self.oversample, Unset):
            oversample = UNSET
        else:
            oversample = self.oversample

        rerank: bool | None | Unset
        if isinstance(self.rerank, Unset):
            rerank = UNSET
        else:
            rerank = self.rerank

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if ef is not UNSET:
            field_dict["ef"] = ef
        if exact is not UNSET:
            field_dict["exact"] = exact
        if oversample is not UNSET:
            field_dict["oversample"] = oversample
        if rerank is not UNSET:
            field_dict["rerank"] = rerank

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_ef(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        ef = _parse_ef(d.pop("ef", UNSET))

        exact = d.pop("exact", UNSET)

        def _parse_oversample(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        oversample = _parse_oversample(d.pop("oversample", UNSET))

        def _parse_rerank(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        rerank = _parse_rerank(d.pop("rerank", UNSET))

        search_params = cls(
            ef=ef,
            exact=exact,
            oversample=oversample,
            rerank=rerank,
        )

        return search_params
