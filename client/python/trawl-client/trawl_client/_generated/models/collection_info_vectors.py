from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.sparse_vector_config import SparseVectorConfig
    from ..models.vector_config import VectorConfig


T = TypeVar("T", bound="CollectionInfoVectors")


@_attrs_define
class CollectionInfoVectors:
    """The named vectors' schemas."""

    additional_properties: dict[str, SparseVectorConfig | VectorConfig] = _attrs_field(
        init=False, factory=dict
    )

    def to_dict(self) -> dict[str, Any]:
        from ..models.sparse_vector_config import SparseVectorConfig

        field_dict: dict[str, Any] = {}
        for prop_name, prop in self.additional_properties.items():
            if isinstance(prop, SparseVectorConfig):
                field_dict[prop_name] = prop.to_dict()
            else:
                field_dict[prop_name] = prop.to_dict()

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.sparse_vector_config import SparseVectorConfig
        from ..models.vector_config import VectorConfig

        d = dict(src_dict)
        collection_info_vectors = cls()

        additional_properties = {}
        for prop_name, prop_dict in d.items():

            def _parse_additional_property(
                data: object,
            ) -> SparseVectorConfig | VectorConfig:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_vector_spec_type_0 = SparseVectorConfig.from_dict(
                        data
                    )

                    return componentsschemas_vector_spec_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_vector_spec_type_1 = VectorConfig.from_dict(data)

                return componentsschemas_vector_spec_type_1

            additional_property = _parse_additional_property(prop_dict)

            additional_properties[prop_name] = additional_property

        collection_info_vectors.additional_properties = additional_properties
        return collection_info_vectors

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> SparseVectorConfig | VectorConfig:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: SparseVectorConfig | VectorConfig) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
