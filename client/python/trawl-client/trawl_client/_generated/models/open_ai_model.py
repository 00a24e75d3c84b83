from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="OpenAiModel")


@_attrs_define
class OpenAiModel:
    """One model in OpenAI's shape (`GET /v1/models`).

    Attributes:
        created (int): When the model's files were written (Unix seconds).
        dimensions (int): The embedding's dimension (a Trawl extension).
        id (str): The model's id, as `/v1/embeddings` answers it in `model`.
        max_tokens (int): Inputs are cut at this many tokens, special tokens included (a Trawl extension).
        object_ (str): Always `"model"`.
        owned_by (str): Always `"trawl"`.
    """

    created: int
    dimensions: int
    id: str
    max_tokens: int
    object_: str
    owned_by: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created = self.created

        dimensions = self.dimensions

        id = self.id

        max_tokens = self.max_tokens

        object_ = self.object_

        owned_by = self.owned_by

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created": created,
                "dimensions": dimensions,
                "id": id,
                "max_tokens": max_tokens,
                "object": object_,
                "owned_by": owned_by,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created = d.pop("created")

        dimensions = d.pop("dimensions")

        id = d.pop("id")

        max_tokens = d.pop("max_tokens")

        object_ = d.pop("object")

        owned_by = d.pop("owned_by")

        open_ai_model = cls(
            created=created,
            dimensions=dimensions,
            id=id,
            max_tokens=max_tokens,
            object_=object_,
            owned_by=owned_by,
        )

        open_ai_model.additional_properties = d
        return open_ai_model

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
