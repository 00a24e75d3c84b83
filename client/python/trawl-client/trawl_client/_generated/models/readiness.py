from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Readiness")


@_attrs_define
class Readiness:
    """Answer of `GET /readyz`: whether the model is loaded and storage is open.

    Attributes:
        model_loaded (bool): The default encoder has loaded its model.
        ready (bool): True when every component below is ready.
        storage_open (bool): The data directory is open for reads and writes.
        model (None | str | Unset): The default model's name, once loaded.
    """

    model_loaded: bool
    ready: bool
    storage_open: bool
    model: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model_loaded = self.model_loaded

        ready = self.ready

        storage_open = self.storage_open

        model: None | str | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model_loaded": model_loaded,
                "ready": ready,
                "storage_open": storage_open,
            }
        )
        if model is not UNSET:
            field_dict["model"] = model

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        model_loaded = d.pop("model_loaded")

        ready = d.pop("ready")

        storage_open = d.pop("storage_open")

        def _parse_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model = _parse_model(d.pop("model", UNSET))

        readiness = cls(
            model_loaded=model_loaded,
            ready=ready,
            storage_open=storage_open,
            model=model,
        )

        readiness.additional_properties = d
        return readiness

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
