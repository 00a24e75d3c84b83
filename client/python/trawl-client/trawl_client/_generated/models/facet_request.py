from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.filter_ import Filter


T = TypeVar("T", bound="FacetRequest")


@_attrs_define
class FacetRequest:
    """Body of `POST /collections/{name}/facet`: how many points hold each value
    of an indexed keyword, integer or bool field.

        Attributes:
            key (str): The payload field (with a keyword, integer or bool index).
            filter_ (Filter | None | Unset):
            limit (int | Unset): Values listed, most frequent first (1 to 10,000; default 10). Default: 10.
    """

    key: str
    filter_: Filter | None | Unset = UNSET
    limit: int | Unset = 10

    def to_dict(self) -> dict[str, Any]:
        from ..models.filter_ import Filter

        key = self.key

        filter_: dict[str, Any] | None | Unset
        if isinstance(self.filter_, Unset):
            filter_ = UNSET
        elif isinstance(self.filter_, Filter):
            filter_ = self.filter_.to_dict()
        else:
            filter_ = self.filter_

        limit = self.limit

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "key": key,
            }
        )
        if filter_ is not UNSET:
            field_dict["filter"] = filter_
        if limit is not UNSET:
            field_dict["limit"] = limit

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.filter_ import Filter

        d = dict(src_dict)
        key = d.pop("key")

        def _parse_filter_(data: object) -> Filter | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                filter_type_1 = Filter.from_dict(data)

                return filter_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Filter | None | Unset, data)

        filter_ = _parse_filter_(d.pop("filter", UNSET))

        limit = d.pop("limit", UNSET)

        facet_request = cls(
            key=key,
            filter_=filter_,
            limit=limit,
        )

        return facet_request
