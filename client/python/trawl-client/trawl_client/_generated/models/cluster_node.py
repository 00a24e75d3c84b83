from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ClusterNode")


@_attrs_define
class ClusterNode:
    """A node of the cluster.

    Attributes:
        cluster_addr (str): Its cluster address (`--cluster-addr`).
        id (int): Its id (`--node-id`).
        up (bool): Whether it answered the answering node just now.
        api_addr (None | str | Unset): Its API address, once it has announced it.
    """

    cluster_addr: str
    id: int
    up: bool
    api_addr: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cluster_addr = self.cluster_addr

        id = self.id

        up = self.up

        api_addr: None | str | Unset
        if isinstance(self.api_addr, Unset):
            api_addr = UNSET
        else:
            api_addr = self.api_addr

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cluster_addr": cluster_addr,
                "id": id,
                "up": up,
            }
        )
        if api_addr is not UNSET:
            field_dict["api_addr"] = api_addr

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cluster_addr = d.pop("cluster_addr")

        id = d.pop("id")

        up = d.pop("up")

        def _parse_api_addr(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        api_addr = _parse_api_addr(d.pop("api_addr", UNSET))

        cluster_node = cls(
            cluster_addr=cluster_addr,
            id=id,
            up=up,
            api_addr=api_addr,
        )

        cluster_node.additional_properties = d
        return cluster_node

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
