from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.memory_info_disk import MemoryInfoDisk
    from ..models.memory_info_ram import MemoryInfoRam


T = TypeVar("T", bound="MemoryInfo")


@_attrs_define
class MemoryInfo:
    """Where a collection's bytes are.

    Attributes:
        disk (MemoryInfoDisk): On disk, by part: `vectors_file` (full vectors of compact layouts and
            token vectors, memory-mapped and read only to rerank), `payloads_file`
            (payloads of sealed segments, read for hits and unindexed filters),
            `wal`, `segments_file` (the other files of the sealed segments),
            `text_file` (the sealed segments' full-text indexes, memory-mapped),
            `sparse_file` (the sealed segments' sparse vectors and postings,
            memory-mapped).
        ram (MemoryInfoRam): In memory, by part: `vectors` (full vectors, float layout), `codes`
            (compact layouts), `graph` (links), `payload_index`, `payloads`, `ids`,
            `text` (the full-text index of points not sealed yet), `sparse`
            (sparse vectors and postings of points not sealed yet).
    """

    disk: MemoryInfoDisk
    ram: MemoryInfoRam
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        disk = self.disk.to_dict()

        ram = self.ram.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "disk": disk,
                "ram": ram,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.memory_info_disk import MemoryInfoDisk
        from ..models.memory_info_ram import MemoryInfoRam

        d = dict(src_dict)
        disk = MemoryInfoDisk.from_dict(d.pop("disk"))

        ram = MemoryInfoRam.from_dict(d.pop("ram"))

        memory_info = cls(
            disk=disk,
            ram=ram,
        )

        memory_info.additional_properties = d
        return memory_info

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
