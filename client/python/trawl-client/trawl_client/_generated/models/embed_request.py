from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.binary_encoding import BinaryEncoding
from ..models.embed_kind import EmbedKind
from ..types import UNSET, Unset

T = TypeVar("T", bound="EmbedRequest")


@_attrs_define
class EmbedRequest:
    """Body of `POST /embed`.

    Attributes:
        inputs (list[str]): The texts to embed. An empty string is embedded as sentence-transformers does.
        binary_encoding (BinaryEncoding | None | Unset):
        bits (int | None | Unset): For `binary`: bits per dimension, 1, 2 or 4 (default 1).
        dims (int | None | Unset): For `matryoshka`: the prefix length `k` (1 ..= the model's dimension).
        kind (EmbedKind | Unset): Which representation `/embed` returns.
    """

    inputs: list[str]
    binary_encoding: BinaryEncoding | None | Unset = UNSET
    bits: int | None | Unset = UNSET
    dims: int | None | Unset = UNSET
    kind: EmbedKind | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        inputs = self.inputs

        binary_encoding: None | str | Unset
        if isinstance(self.binary_encoding, Unset):
            binary_encoding = UNSET
        elif isinstance(self.binary_encoding, BinaryEncoding):
            binary_encoding = self.binary_encoding.value
        else:
            binary_encoding = self.binary_encoding

        bits: int | None | Unset
        if isinstance(self.bits, Unset):
            bits = UNSET
        else:
            bits = self.bits

        dims: int | None | Unset
        if isinstance(self.dims, Unset):
            dims = UNSET
        else:
            dims = self.dims

        kind: str | Unset = UNSET
        if not isinstance(self.kind, Unset):
            kind = self.kind.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "inputs": inputs,
            }
        )
        if binary_encoding is not UNSET:
            field_dict["binary_encoding"] = binary_encoding
        if bits is not UNSET:
            field_dict["bits"] = bits
        if dims is not UNSET:
            field_dict["dims"] = dims
        if kind is not UNSET:
            field_dict["kind"] = kind

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        inputs = cast(list[str], d.pop("inputs"))

        def _parse_binary_encoding(data: object) -> BinaryEncoding | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                binary_encoding_type_1 = BinaryEncoding(data)

                return binary_encoding_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BinaryEncoding | None | Unset, data)

        binary_encoding = _parse_binary_encoding(d.pop("binary_encoding", UNSET))

        def _parse_bits(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        bits = _parse_bits(d.pop("bits", UNSET))

        def _parse_dims(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        dims = _parse_dims(d.pop("dims", UNSET))

        _kind = d.pop("kind", UNSET)
        kind: EmbedKind | Unset
        if isinstance(_kind, Unset):
            kind = UNSET
        else:
            kind = EmbedKind(_kind)

        embed_request = cls(
            inputs=inputs,
            binary_encoding=binary_encoding,
            bits=bits,
            dims=dims,
            kind=kind,
        )

        return embed_request
