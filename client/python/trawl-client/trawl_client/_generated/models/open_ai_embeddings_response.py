from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.open_ai_embedding_data import OpenAiEmbeddingData
    from ..models.open_ai_usage import OpenAiUsage


T = TypeVar("T", bound="OpenAiEmbeddingsResponse")


@_attrs_define
class OpenAiEmbeddingsResponse:
    """Answer of `POST /v1/embeddings`.

    Attributes:
        data (list[OpenAiEmbeddingData]): One entry per input, in input order.
        model (str): The model that produced the embeddings.
        object_ (str): Always `"list"`.
        usage (OpenAiUsage): Token accounting in OpenAI's shape.
    """

    data: list[OpenAiEmbeddingData]
    model: str
    object_: str
    usage: OpenAiUsage
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = []
        for data_item_data in self.data:
            data_item = data_item_data.to_dict()
            data.append(data_item)

        model = self.model

        object_ = self.object_

        usage = self.usage.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "data": data,
                "model": model,
                "object": object_,
                "usage": usage,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.open_ai_embedding_data import OpenAiEmbeddingData
        from ..models.open_ai_usage import OpenAiUsage

        d = dict(src_dict)
        data = []
        _data = d.pop("data")
        for data_item_data in _data:
            data_item = OpenAiEmbeddingData.from_dict(data_item_data)

            data.append(data_item)

        model = d.pop("model")

        object_ = d.pop("object")

        usage = OpenAiUsage.from_dict(d.pop("usage"))

        open_ai_embeddings_response = cls(
            data=data,
            model=model,
            object_=object_,
            usage=usage,
        )

        open_ai_embeddings_response.additional_properties = d
        return open_ai_embeddings_response

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
