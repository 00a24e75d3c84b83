from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.search_request import SearchRequest


T = TypeVar("T", bound="BatchSearchRequest")


@_attrs_define
class BatchSearchRequest:
    """Body of `POST /collections/{name}/search/batch`.

    Attributes:
        searches (list[SearchRequest]): The searches, run in order.
    """

    searches: list[SearchRequest]

    def to_dict(self) -> dict[str, Any]:
        searches = []
        for searches_item_data in self.searches:
            searches_item = searches_item_data.to_dict()
            searches.append(searches_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "searches": searches,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.search_request import SearchRequest

        d = dict(src_dict)
        searches = []
        _searches = d.pop("searches")
        for searches_item_data in _searches:
            searches_item = SearchRequest.from_dict(searches_item_data)

            searches.append(searches_item)

        batch_search_request = cls(
            searches=searches,
        )

        return batch_search_request
