from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.filter_ import Filter


T = TypeVar("T", bound="DeletePoints")


@_attrs_define
class DeletePoints:
    """Body of `POST /collections/{name}/points/delete`: ids or a filter.

    Attributes:
        filter_ (Filter | None | Unset):
        ids (list[int | str] | None | Unset): Ids to delete.
    """

    filter_: Filter | None | Unset = UNSET
    ids: list[int | str] | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.filter_ import Filter

        filter_: dict[str, Any] | None | Unset
        if isinstance(self.filter_, Unset):
            filter_ = UNSET
        elif isinstance(self.filter_, Filter):
            filter_ = self.filter_.to_dict()
        else:
            filter_ = self.filter_

        ids: list[int | str] | None | Unset
        if isinstance(self.ids, Unset):
            ids = UNSET
        elif isinstance(self.ids, list):
            ids = []
            for ids_type_0_item_data in self.ids:
                ids_type_0_item: int | str
                ids_type_0_item = ids_type_0_item_data
                ids.append(ids_type_0_item)

        else:
            ids = self.ids

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if filter_ is not UNSET:
            field_dict["filter"] = filter_
        if ids is not UNSET:
            field_dict["ids"] = ids

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.filter_ import Filter

        d = dict(src_dict)

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

        def _parse_ids(data: object) -> list[int | str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                ids_type_0 = []
                _ids_type_0 = data
                for ids_type_0_item_data in _ids_type_0:

                    def _parse_ids_type_0_item(data: object) -> int | str:
                        return cast(int | str, data)

                    ids_type_0_item = _parse_ids_type_0_item(ids_type_0_item_data)

                    ids_type_0.append(ids_type_0_item)

                return ids_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int | str] | None | Unset, data)

        ids = _parse_ids(d.pop("ids", UNSET))

        delete_points = cls(
            filter_=filter_,
            ids=ids,
        )

        return delete_points
