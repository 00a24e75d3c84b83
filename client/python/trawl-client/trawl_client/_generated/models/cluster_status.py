from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.cluster_collection import ClusterCollection
    from ..models.cluster_node import ClusterNode


T = TypeVar("T", bound="ClusterStatus")


@_attrs_define
class ClusterStatus:
    """Answer of `GET /cluster`.

    Attributes:
        collections (list[ClusterCollection]): Each collection's shards.
        mode (str): `single` (no cluster flags) or `cluster`.
        nodes (list[ClusterNode]): The metadata group's members.
        metadata_leader (int | None | Unset): The node leading the metadata group, as the answering node knows it.
        node_id (int | None | Unset): The id of the node that answered (`null` for a single node).
    """

    collections: list[ClusterCollection]
    mode: str
    nodes: list[ClusterNode]
    metadata_leader: int | None | Unset = UNSET
    node_id: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        collections = []
        for collections_item_data in self.collections:
            collections_item = collections_item_data.to_dict()
            collections.append(collections_item)

        mode = self.mode

        nodes = []
        for nodes_item_data in self.nodes:
            nodes_item = nodes_item_data.to_dict()
            nodes.append(nodes_item)

        metadata_leader: int | None | Unset
        if isinstance(self.metadata_leader, Unset):
            metadata_leader = UNSET
        else:
            metadata_leader = self.metadata_leader

        node_id: int | None | Unset
        if isinstance(self.node_id, Unset):
            node_id = UNSET
        else:
            node_id = self.node_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "collections": collections,
                "mode": mode,
                "nodes": nodes,
            }
        )
        if metadata_leader is not UNSET:
            field_dict["metadata_leader"] = metadata_leader
        if node_id is not UNSET:
            field_dict["node_id"] = node_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.cluster_collection import ClusterCollection
        from ..models.cluster_node import ClusterNode

        d = dict(src_dict)
        collections = []
        _collections = d.pop("collections")
        for collections_item_data in _collections:
            collections_item = ClusterCollection.from_dict(collections_item_data)

            collections.append(collections_item)

        mode = d.pop("mode")

        nodes = []
        _nodes = d.pop("nodes")
        for nodes_item_data in _nodes:
            nodes_item = ClusterNode.from_dict(nodes_item_data)

            nodes.append(nodes_item)

        def _parse_metadata_leader(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        metadata_leader = _parse_metadata_leader(d.pop("metadata_leader", UNSET))

        def _parse_node_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        node_id = _parse_node_id(d.pop("node_id", UNSET))

        cluster_status = cls(
            collections=collections,
            mode=mode,
            nodes=nodes,
            metadata_leader=metadata_leader,
            node_id=node_id,
        )

        cluster_status.additional_properties = d
        return cluster_status

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
