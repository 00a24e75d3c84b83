from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.sparse_vector import SparseVector


T = TypeVar("T", bound="HitVectors")


@_attrs_define
class HitVectors:
    """The named vectors it holds, when asked for."""

    additional_properties: dict[str, list[float] | list[list[float]] | SparseVector] = (
        _attrs_field(init=False, factory=dict)
    )

    def to_dict(self) -> dict[str, Any]:

        field_dict: dict[str, Any] = {}
        for prop_name, prop in self.additional_properties.items():
            if isinstance(prop, list):
                field_dict[prop_name] = prop

            elif isinstance(prop, list):
                field_dict[prop_name] = []
                for componentsschemas_named_vector_type_1_item_data in prop:
                    componentsschemas_named_vector_type_1_item = (
                        componentsschemas_named_vector_type_1_item_data
                    )

                    field_dict[prop_name].append(
                        componentsschemas_named_vector_type_1_item
                    )

            else:
                field_dict[prop_name] = prop.to_dict()

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.sparse_vector import SparseVector

        d = dict(src_dict)
        hit_vectors = cls()

        additional_properties = {}
        for prop_name, prop_dict in d.items():

            def _parse_additional_property(
                data: object,
            ) -> list[float] | list[list[float]] | SparseVector:
                try:
                    if not isinstance(data, list):
                        raise TypeError()
                    componentsschemas_named_vector_type_0 = cast(list[float], data)

                    return componentsschemas_named_vector_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, list):
                        raise TypeError()
                    componentsschemas_named_vector_type_1 = []
                    _componentsschemas_named_vector_type_1 = data
                    for (
                        componentsschemas_named_vector_type_1_item_data
                    ) in _componentsschemas_named_vector_type_1:
                        componentsschemas_named_vector_type_1_item = cast(
                            list[float], componentsschemas_named_vector_type_1_item_data
                        )

                        componentsschemas_named_vector_type_1.append(
                            componentsschemas_named_vector_type_1_item
                        )

                    return componentsschemas_named_vector_type_1
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_named_vector_type_2 = SparseVector.from_dict(data)

                return componentsschemas_named_vector_type_2

            additional_property = _parse_additional_property(prop_dict)

            additional_properties[prop_name] = additional_property

        hit_vectors.additional_properties = additional_properties
        return hit_vectors

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> list[float] | list[list[float]] | SparseVector:
        return self.additional_properties[key]

    def __setitem__(
        self, key: str, value: list[float] | list[list[float]] | SparseVector
    ) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
