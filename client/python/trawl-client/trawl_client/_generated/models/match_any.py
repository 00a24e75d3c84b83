from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="MatchAny")


@_attrs_define
class MatchAny:
    """Membership.

    Attributes:
        any_ (list[bool | int | str]): The accepted values.
    """

    any_: list[bool | int | str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        any_ = []
        for any_item_data in self.any_:
            any_item: bool | int | str
            any_item = any_item_data
            any_.append(any_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "any": any_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        any_ = []
        _any_ = d.pop("any")
        for any_item_data in _any_:

            def _parse_any_item(data: object) -> bool | int | str:
                return cast(bool | int | str, data)

            any_item = _parse_any_item(any_item_data)

            any_.append(any_item)

        match_any = cls(
            any_=any_,
        )

        match_any.additional_properties = d
        return match_any

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
