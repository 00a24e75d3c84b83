from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SnapshotAck")


@_attrs_define
class SnapshotAck:
    """Answer of `POST /collections/{name}/snapshots`.

    Attributes:
        bytes_ (int): Bytes of its files.
        created (str): When it was taken (RFC 3339, UTC).
        lsn (int): The last log record it covers.
        name (str): The snapshot's name: download it from `GET .../snapshots/{name}`.
        points (int): Live points it holds.
    """

    bytes_: int
    created: str
    lsn: int
    name: str
    points: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bytes_ = self.bytes_

        created = self.created

        lsn = self.lsn

        name = self.name

        points = self.points

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bytes": bytes_,
                "created": created,
                "lsn": lsn,
                "name": name,
                "points": points,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bytes_ = d.pop("bytes")

        created = d.pop("created")

        lsn = d.pop("lsn")

        name = d.pop("name")

        points = d.pop("points")

        snapshot_ack = cls(
            bytes_=bytes_,
            created=created,
            lsn=lsn,
            name=name,
            points=points,
        )

        snapshot_ack.additional_properties = d
        return snapshot_ack

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
