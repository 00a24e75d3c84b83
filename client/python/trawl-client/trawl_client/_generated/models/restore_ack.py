from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RestoreAck")


@_attrs_define
class RestoreAck:
    """Answer of a restore.

    Attributes:
        bytes_ (int): Bytes of the files read.
        collection (str): The collection restored (created if it did not exist).
        points (int): Live points now.
        snapshot (str): The snapshot's name.
        source (str): The collection the snapshot was taken of.
        status (str): `"restored"`.
    """

    bytes_: int
    collection: str
    points: int
    snapshot: str
    source: str
    status: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bytes_ = self.bytes_

        collection = self.collection

        points = self.points

        snapshot = self.snapshot

        source = self.source

        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bytes": bytes_,
                "collection": collection,
                "points": points,
                "snapshot": snapshot,
                "source": source,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bytes_ = d.pop("bytes")

        collection = d.pop("collection")

        points = d.pop("points")

        snapshot = d.pop("snapshot")

        source = d.pop("source")

        status = d.pop("status")

        restore_ack = cls(
            bytes_=bytes_,
            collection=collection,
            points=points,
            snapshot=snapshot,
            source=source,
            status=status,
        )

        restore_ack.additional_properties = d
        return restore_ack

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
