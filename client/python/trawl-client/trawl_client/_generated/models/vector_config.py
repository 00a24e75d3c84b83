from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.metric import Metric
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.hnsw_config import HnswConfig
    from ..models.muvera_config import MuveraConfig


T = TypeVar("T", bound="VectorConfig")


@_attrs_define
class VectorConfig:
    """The vector schema of a collection.

    Attributes:
        dims (int | None | Unset): Dimension; the default encoder's when omitted.
        encoder (None | str | Unset): Named vectors: `float` (the model's sentence embedding) or
            `multivector` (its token embeddings, for a `multivector` layout) lets
            a point's or a query's `text` fill this vector with the server's
            model; `dims` must then be the model's. The unnamed `vector` always
            takes `text`.
        hnsw (HnswConfig | Unset): HNSW construction parameters.
        layout (str | Unset): Storage layout: `float` (default), `binary`, `binary:2`, `binary:4`, `matryoshka:K`,
            `multivector`.
        metric (Metric | Unset): Similarity metric. Scores are "higher is better" for each (l2 answers the negated
            distance).
        muvera (MuveraConfig | None | Unset):
    """

    dims: int | None | Unset = UNSET
    encoder: None | str | Unset = UNSET
    hnsw: HnswConfig | Unset = UNSET
    layout: str | Unset = UNSET
    metric: Metric | Unset = UNSET
    muvera: MuveraConfig | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.muvera_config import MuveraConfig

        dims: int | None | Unset
        if isinstance(self.dims, Unset):
            dims = UNSET
        else:
            dims = self.dims

        encoder: None | str | Unset
        if isinstance(self.encoder, Unset):
            encoder = UNSET
        else:
            encoder = self.encoder

        hnsw: dict[str, Any] | Unset = UNSET
        if not isinstance(self.hnsw, Unset):
            hnsw = self.hnsw.to_dict()

        layout = self.layout

        metric: str | Unset = UNSET
        if not isinstance(self.metric, Unset):
            metric = self.metric.value

        muvera: dict[str, Any] | None | Unset
        if isinstance(self.muvera, Unset):
            muvera = UNSET
        elif isinstance(self.muvera, MuveraConfig):
            muvera = self.muvera.to_dict()
        else:
            muvera = self.muvera

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if dims is not UNSET:
            field_dict["dims"] = dims
        if encoder is not UNSET:
            field_dict["encoder"] = encoder
        if hnsw is not UNSET:
            field_dict["hnsw"] = hnsw
        if layout is not UNSET:
            field_dict["layout"] = layout
        if metric is not UNSET:
            field_dict["metric"] = metric
        if muvera is not UNSET:
            field_dict["muvera"] = muvera

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.hnsw_config import HnswConfig
        from ..models.muvera_config import MuveraConfig

        d = dict(src_dict)

        def _parse_dims(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        dims = _parse_dims(d.pop("dims", UNSET))

        def _parse_encoder(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        encoder = _parse_encoder(d.pop("encoder", UNSET))

        _hnsw = d.pop("hnsw", UNSET)
        hnsw: HnswConfig | Unset
        if isinstance(_hnsw, Unset):
            hnsw = UNSET
        else:
            hnsw = HnswConfig.from_dict(_hnsw)

        layout = d.pop("layout", UNSET)

        _metric = d.pop("metric", UNSET)
        metric: Metric | Unset
        if isinstance(_metric, Unset):
            metric = UNSET
        else:
            metric = Metric(_metric)

        def _parse_muvera(data: object) -> MuveraConfig | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                muvera_type_1 = MuveraConfig.from_dict(data)

                return muvera_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MuveraConfig | None | Unset, data)

        muvera = _parse_muvera(d.pop("muvera", UNSET))

        vector_config = cls(
            dims=dims,
            encoder=encoder,
            hnsw=hnsw,
            layout=layout,
            metric=metric,
            muvera=muvera,
        )

        return vector_config
