from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.rrf_params import RrfParams


T = TypeVar("T", bound="FusionRrf")


@_attrs_define
class FusionRrf:
    """`{"rrf": {"k": 60}}`.

    Attributes:
        rrf (RrfParams): Reciprocal rank fusion's parameters.
    """

    rrf: RrfParams
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        rrf = self.rrf.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "rrf": rrf,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.rrf_params import RrfParams

        d = dict(src_dict)
        rrf = RrfParams.from_dict(d.pop("rrf"))

        fusion_rrf = cls(
            rrf=rrf,
        )

        fusion_rrf.additional_properties = d
        return fusion_rrf

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
