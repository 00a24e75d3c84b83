from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="CreateAlias")


@_attrs_define
class CreateAlias:
    """The body of an alias `create` action.

    Attributes:
        alias (str): The alias (a collection name's rules; not a collection's name).
        collection (str): The collection it names.
    """

    alias: str
    collection: str

    def to_dict(self) -> dict[str, Any]:
        alias = self.alias

        collection = self.collection

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "alias": alias,
                "collection": collection,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        alias = d.pop("alias")

        collection = d.pop("collection")

        create_alias = cls(
            alias=alias,
            collection=collection,
        )

        return create_alias
