from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ConditionHasId")


@_attrs_define
class ConditionHasId:
    """`{"has_id": [...]}`.

    Attributes:
        has_id (list[int | str]): The accepted ids.
    """

    has_id: list[int | str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        has_id = []
        for has_id_item_data in self.has_id:
            has_id_item: int | str
            has_id_item = has_id_item_data
            has_id.append(has_id_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "has_id": has_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        has_id = []
        _has_id = d.pop("has_id")
        for has_id_item_data in _has_id:

            def _parse_has_id_item(data: object) -> int | str:
                return cast(int | str, data)

            has_id_item = _parse_has_id_item(has_id_item_data)

            has_id.append(has_id_item)

        condition_has_id = cls(
            has_id=has_id,
        )

        condition_has_id.additional_properties = d
        return condition_has_id

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
