from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RecoverCollection")


@_attrs_define
class RecoverCollection:
    """Body of `POST /collections/{name}/recover`.

    Attributes:
        accept_intact_log_prefix (bool | Unset): Cut the write-ahead log at its first damaged record before opening,
            dropping that record and every record after it (intact or not). Without
            it the collection is only opened again, e.g. after its files were
            restored.
    """

    accept_intact_log_prefix: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        accept_intact_log_prefix = self.accept_intact_log_prefix

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if accept_intact_log_prefix is not UNSET:
            field_dict["accept_intact_log_prefix"] = accept_intact_log_prefix

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        accept_intact_log_prefix = d.pop("accept_intact_log_prefix", UNSET)

        recover_collection = cls(
            accept_intact_log_prefix=accept_intact_log_prefix,
        )

        return recover_collection
