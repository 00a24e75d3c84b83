from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.cluster_shard import ClusterShard


T = TypeVar("T", bound="ClusterCollection")


@_attrs_define
class ClusterCollection:
    """A collection's shards.

    Attributes:
        name (str): The collection.
        shards (list[ClusterShard]): Its shards, in order.
    """

    name: str
    shards: list[ClusterShard]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        shards = []
        for shards_item_data in self.shards:
            shards_item = shards_item_data.to_dict()
            shards.append(shards_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "shards": shards,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.cluster_shard import ClusterShard

        d = dict(src_dict)
        name = d.pop("name")

        shards = []
        _shards = d.pop("shards")
        for shards_item_data in _shards:
            shards_item = ClusterShard.from_dict(shards_item_data)

            shards.append(shards_item)

        cluster_collection = cls(
            name=name,
            shards=shards,
        )

        cluster_collection.additional_properties = d
        return cluster_collection

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
