from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.cluster_replica import ClusterReplica


T = TypeVar("T", bound="ClusterShard")


@_attrs_define
class ClusterShard:
    """One shard: a Raft group of replicas.

    Attributes:
        replicas (list[ClusterReplica]): Its replicas.
        shard (int): Its number.
        leader (int | None | Unset): Its leader, when the answering node holds a replica and knows it.
    """

    replicas: list[ClusterReplica]
    shard: int
    leader: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        replicas = []
        for replicas_item_data in self.replicas:
            replicas_item = replicas_item_data.to_dict()
            replicas.append(replicas_item)

        shard = self.shard

        leader: int | None | Unset
        if isinstance(self.leader, Unset):
            leader = UNSET
        else:
            leader = self.leader

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "replicas": replicas,
                "shard": shard,
            }
        )
        if leader is not UNSET:
            field_dict["leader"] = leader

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.cluster_replica import ClusterReplica

        d = dict(src_dict)
        replicas = []
        _replicas = d.pop("replicas")
        for replicas_item_data in _replicas:
            replicas_item = ClusterReplica.from_dict(replicas_item_data)

            replicas.append(replicas_item)

        shard = d.pop("shard")

        def _parse_leader(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        leader = _parse_leader(d.pop("leader", UNSET))

        cluster_shard = cls(
            replicas=replicas,
            shard=shard,
            leader=leader,
        )

        cluster_shard.additional_properties = d
        return cluster_shard

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
