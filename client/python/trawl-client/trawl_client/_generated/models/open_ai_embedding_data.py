from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="OpenAiEmbeddingData")


@_attrs_define
class OpenAiEmbeddingData:
    """One entry of `data`.

    Attributes:
        embedding (list[float] | str): An embedding as numbers or as base64.
        index (int): Position of the input.
        object_ (str): Always `"embedding"`.
        truncated (bool): Whether the input was cut at the model's maximum token count (a Trawl extension).
    """

    embedding: list[float] | str
    index: int
    object_: str
    truncated: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        embedding: list[float] | str
        if isinstance(self.embedding, list):
            embedding = self.embedding

        else:
            embedding = self.embedding

        index = self.index

        object_ = self.object_

        truncated = self.truncated

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "embedding": embedding,
                "index": index,
                "object": object_,
                "truncated": truncated,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_embedding(data: object) -> list[float] | str:
            try:
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_open_ai_embedding_type_0 = cast(list[float], data)

                return componentsschemas_open_ai_embedding_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | str, data)

        embedding = _parse_embedding(d.pop("embedding"))

        index = d.pop("index")

        object_ = d.pop("object")

        truncated = d.pop("truncated")

        open_ai_embedding_data = cls(
            embedding=embedding,
            index=index,
            object_=object_,
            truncated=truncated,
        )

        open_ai_embedding_data.additional_properties = d
        return open_ai_embedding_data

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
