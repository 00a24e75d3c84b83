from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SnapshotDescription")


@_attrs_define
class SnapshotDescription:
    """A stored snapshot.

    Attributes:
        bytes_ (int): Bytes of its files. Segment files are hard links shared with the
            collection until its merges replace them.
        collection (str): The collection it was taken of.
        created (str): When it was taken (RFC 3339, UTC).
        lsn (int): The last log record it holds.
        name (str): Its name, unique among the collection's snapshots.
        points (int): Live points.
    """

    bytes_: int
    collection: str
    created: str
    lsn: int
    name: str
    points: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bytes_ = self.bytes_

        collection = self.collection

        created = self.created

        lsn = self.lsn

        name = self.name

        points = self.points

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bytes": bytes_,
                "collection": collection,
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

        collection = d.pop("collection")

        created = d.pop("created")

        lsn = d.pop("lsn")

        name = d.pop("name")

        points = d.pop("points")

        snapshot_description = cls(
            bytes_=bytes_,
            collection=collection,
            created=created,
            lsn=lsn,
            name=name,
            points=points,
        )

        snapshot_description.additional_properties = d
        return snapshot_description

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
