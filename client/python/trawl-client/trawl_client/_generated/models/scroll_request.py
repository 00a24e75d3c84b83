from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.filter_ import Filter


T = TypeVar("T", bound="ScrollRequest")


@_attrs_define
class ScrollRequest:
    """Body of `POST /collections/{name}/points/scroll`: one page of points in
    id order (integers by value, then UUIDs).

        Attributes:
            cursor (None | str | Unset): Where to continue: the `next` of the previous page (absent for the
                first page).
            filter_ (Filter | None | Unset):
            limit (int | Unset): Points per page (1 to 10,000; default 100). Default: 100.
            with_payload (bool | Unset): Return payloads (default true). Default: True.
            with_vectors (bool | Unset): Return stored vectors (default false).
    """

    cursor: None | str | Unset = UNSET
    filter_: Filter | None | Unset = UNSET
    limit: int | Unset = 100
    with_payload: bool | Unset = True
    with_vectors: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.filter_ import Filter

        cursor: None | str | Unset
        if isinstance(self.cursor, Unset):
            cursor = UNSET
        else:
            cursor = self.cursor

        filter_: dict[str, Any] | None | Unset
        if isinstance(self.filter_, Unset):
            filter_ = UNSET
        elif isinstance(self.filter_, Filter):
            filter_ = self.filter_.to_dict()
        else:
            filter_ = self.filter_

        limit = self.limit

        with_payload = self.with_payload

        with_vectors = self.with_vectors

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if cursor is not UNSET:
            field_dict["cursor"] = cursor
        if filter_ is not UNSET:
            field_dict["filter"] = filter_
        if limit is not UNSET:
            field_dict["limit"] = limit
        if with_payload is not UNSET:
            field_dict["with_payload"] = with_payload
        if with_vectors is not UNSET:
            field_dict["with_vectors"] = with_vectors

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.filter_ import Filter

        d = dict(src_dict)

        def _parse_cursor(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cursor = _parse_cursor(d.pop("cursor", UNSET))

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

        with_payload = d.pop("with_payload", UNSET)

        with_vectors = d.pop("with_vectors", UNSET)

        scroll_request = cls(
            cursor=cursor,
            filter_=filter_,
            limit=limit,
            with_payload=with_payload,
            with_vectors=with_vectors,
        )

        return scroll_request
