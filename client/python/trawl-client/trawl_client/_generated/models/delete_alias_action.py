from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.delete_alias import DeleteAlias


T = TypeVar("T", bound="DeleteAliasAction")


@_attrs_define
class DeleteAliasAction:
    """`{"delete": {"alias"}}`: removes an alias (never a collection).

    Attributes:
        delete (DeleteAlias): The body of an alias `delete` action.
    """

    delete: DeleteAlias
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        delete = self.delete.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "delete": delete,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.delete_alias import DeleteAlias

        d = dict(src_dict)
        delete = DeleteAlias.from_dict(d.pop("delete"))

        delete_alias_action = cls(
            delete=delete,
        )

        delete_alias_action.additional_properties = d
        return delete_alias_action

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
