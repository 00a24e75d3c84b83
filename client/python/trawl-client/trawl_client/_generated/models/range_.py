from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Range")


@_attrs_define
class Range:
    """Numeric bounds; at least one must be given. Only the object form parses.

    Attributes:
        gt (float | None | Unset): Greater than.
        gte (float | None | Unset): Greater than or equal.
        lt (float | None | Unset): Less than.
        lte (float | None | Unset): Less than or equal.
    """

    gt: float | None | Unset = UNSET
    gte: float | None | Unset = UNSET
    lt: float | None | Unset = UNSET
    lte: float | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        gt: float | None | Unset
        if isinstance(self.gt, Unset):
            gt = UNSET
        else:
            gt = self.gt

        gte: float | None | Unset
        if isinstance(self.gte, Unset):
            gte = UNSET
        else:
            gte = self.gte

        lt: float | None | Unset
        if isinstance(self.lt, Unset):
            lt = UNSET
        else:
            lt = self.lt

        lte: float | None | Unset
        if isinstance(self.lte, Unset):
            lte = UNSET
        else:
            lte = self.lte

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if gt is not UNSET:
            field_dict["gt"] = gt
        if gte is not UNSET:
            field_dict["gte"] = gte
        if lt is not UNSET:
            field_dict["lt"] = lt
        if lte is not UNSET:
            field_dict["lte"] = lte

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_gt(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        gt = _parse_gt(d.pop("gt", UNSET))

        def _parse_gte(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        gte = _parse_gte(d.pop("gte", UNSET))

        def _parse_lt(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        lt = _parse_lt(d.pop("lt", UNSET))

        def _parse_lte(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        lte = _parse_lte(d.pop("lte", UNSET))

        range_ = cls(
            gt=gt,
            gte=gte,
            lt=lt,
            lte=lte,
        )

        return range_
