from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.point_input import PointInput


T = TypeVar("T", bound="UpsertPoints")


@_attrs_define
class UpsertPoints:
    """Body of `PUT /collections/{name}/points`.

    Attributes:
        points (list[PointInput]): Points to insert or replace.
    """

    points: list[PointInput]

    def to_dict(self) -> dict[str, Any]:
        points = []
        for points_item_data in self.points:
            points_item = points_item_data.to_dict()
            points.append(points_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "points": points,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.point_input import PointInput

        d = dict(src_dict)
        points = []
        _points = d.pop("points")
        for points_item_data in _points:
            points_item = PointInput.from_dict(points_item_data)

            points.append(points_item)

        upsert_points = cls(
            points=points,
        )

        return upsert_points
