from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.create_alias import CreateAlias


T = TypeVar("T", bound="CreateAliasAction")


@_attrs_define
class CreateAliasAction:
    """`{"create": {"alias", "collection"}}`: a new alias for a collection.

    Attributes:
        create (CreateAlias): The body of an alias `create` action.
    """

    create: CreateAlias
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        create = self.create.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "create": create,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.create_alias import CreateAlias

        d = dict(src_dict)
        create = CreateAlias.from_dict(d.pop("create"))

        create_alias_action = cls(
            create=create,
        )

        create_alias_action.additional_properties = d
        return create_alias_action

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
