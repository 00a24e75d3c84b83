from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="MemoryInfoDisk")


@_attrs_define
class MemoryInfoDisk:
    """On disk, by part: `vectors_file` (full vectors of compact layouts and
    token vectors, memory-mapped and read only to rerank), `payloads_file`
    (payloads of sealed segments, read for hits and unindexed filters),
    `wal`, `segments_file` (the other files of the sealed segments),
    `text_file` (the sealed segments' full-text indexes, memory-mapped),
    `sparse_file` (the sealed segments' sparse vectors and postings,
    memory-mapped).

    """

    additional_properties: dict[str, int] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        memory_info_disk = cls()

        memory_info_disk.additional_properties = d
        return memory_info_disk

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> int:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: int) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
