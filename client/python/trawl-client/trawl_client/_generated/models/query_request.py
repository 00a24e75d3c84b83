from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.fusion_name import FusionName
from ..models.query_mode import QueryMode
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.filter_ import Filter
    from ..models.fusion_rrf import FusionRrf
    from ..models.fusion_weights import FusionWeights
    from ..models.query_stage import QueryStage
    from ..models.rerank_stage import RerankStage
    from ..models.search_params import SearchParams
    from ..models.sparse_vector import SparseVector


T = TypeVar("T", bound="QueryRequest")


@_attrs_define
class QueryRequest:
    """Body of `POST /collections/{name}/query`: either `prefetch` stages, or
    one stage's fields at the top level (`{"text": "...", "limit": 5}` is a
    plain search; `{"point": 17}` finds the points most like point 17).

        Attributes:
            explain (bool | Unset): Return each hit's rank and score in every stage.
            filter_ (Filter | None | Unset):
            fusion (FusionName | FusionRrf | FusionWeights | None | Unset):
            lexical (None | str | Unset): The top-level stage, lexical (BM25).
            limit (int | Unset): Results returned (default 10; at most `--max-limit`).
            mode (None | QueryMode | Unset):
            multivector (list[list[float]] | None | Unset): The top-level stage's query token vectors.
            params (SearchParams | Unset): Search tuning.
            point (int | None | str | Unset):
            prefetch (list[QueryStage] | None | Unset): Retrieval stages (one, for now; several are combined by fusion,
                which comes with hybrid retrieval).
            rerank (None | RerankStage | Unset):
            sparse (None | SparseVector | Unset):
            text (None | str | Unset): The top-level stage's query text.
            using (None | str | Unset): The named vector of the top-level stage.
            vector (list[float] | None | Unset): The top-level stage's query vector.
            with_payload (bool | Unset): Return payloads (default true).
            with_vector (bool | Unset): Return stored vectors (default false).
    """

    explain: bool | Unset = UNSET
    filter_: Filter | None | Unset = UNSET
    fusion: FusionName | FusionRrf | FusionWeights | None | Unset = UNSET
    lexical: None | str | Unset = UNSET
    limit: int | Unset = UNSET
    mode: None | QueryMode | Unset = UNSET
    multivector: list[list[float]] | None | Unset = UNSET
    params: SearchParams | Unset = UNSET
    point: int | None | str | Unset = UNSET
    prefetch: list[QueryStage] | None | Unset = UNSET
    rerank: None | RerankStage | Unset = UNSET
    sparse: None | SparseVector | Unset = UNSET
    text: None | str | Unset = UNSET
    using: None | str | Unset = UNSET
    vector: list[float] | None | Unset = UNSET
    with_payload: bool | Unset = UNSET
    with_vector: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.filter_ import Filter
        from ..models.fusion_rrf import FusionRrf
        from ..models.fusion_weights import FusionWeights
        from ..models.rerank_stage import RerankStage
        from ..models.sparse_vector import SparseVector

        explain = self.explain

        filter_: dict[str, Any] | None | Unset
        if isinstance(self.filter_, Unset):
            filter_ = UNSET
        elif isinstance(self.filter_, Filter):
            filter_ = self.filter_.to_dict()
        else:
            filter_ = self.filter_

        fusion: dict[str, Any] | None | str | Unset
        if isinstance(self.fusion, Unset):
            fusion = UNSET
        elif isinstance(self.fusion, FusionName):
            fusion = self.fusion.value
        elif isinstance(self.fusion, FusionRrf) or isinstance(
            self.fusion, FusionWeights
        ):
            fusion = self.fusion.to_dict()
        else:
            fusion = self.fusion

        lexical: None | str | Unset
        if isinstance(self.lexical, Unset):
            lexical = UNSET
        else:
            lexical = self.lexical

        limit = self.limit

        mode: None | str | Unset
        if isinstance(self.mode, Unset):
            mode = UNSET
        elif isinstance(self.mode, QueryMode):
            mode = self.mode.value
        else:
            mode = self.mode

        multivector: list[list[float]] | None | Unset
        if isinstance(self.multivector, Unset):
            multivector = UNSET
        elif isinstance(self.multivector, list):
            multivector = []
            for multivector_type_0_item_data in self.multivector:
                multivector_type_0_item = multivector_type_0_item_data

                multivector.append(multivector_type_0_item)

        else:
            multivector = self.multivector

        params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.params, Unset):
            params = self.params.to_dict()

        point: int | None | str | Unset
        if isinstance(self.point, Unset):
            point = UNSET
        else:
            point = self.point

        prefetch: list[dict[str, Any]] | None | Unset
        if isinstance(self.prefetch, Unset):
            prefetch = UNSET
        elif isinstance(self.prefetch, list):
            prefetch = []
            for prefetch_type_0_item_data in self.prefetch:
                prefetch_type_0_item = prefetch_type_0_item_data.to_dict()
                prefetch.append(prefetch_type_0_item)

        else:
            prefetch = self.prefetch

        rerank: dict[str, Any] | None | Unset
        if isinstance(self.rerank, Unset):
            rerank = UNSET
        elif isinstance(self.rerank, RerankStage):
            rerank = self.rerank.to_dict()
        else:
            rerank = self.rerank

        sparse: dict[str, Any] | None | Unset
        if isinstance(self.sparse, Unset):
            sparse = UNSET
        elif isinstance(self.sparse, SparseVector):
            sparse = self.sparse.to_dict()
        else:
            sparse = self.sparse

        text: None | str | Unset
        if isinstance(self.text, Unset):
            text = UNSET
        else:
            text = self.text

        using: None | str | Unset
        if isinstance(self.using, Unset):
            using = UNSET
        else:
            using = self.using

        vector: list[float] | None | Unset
        if isinstance(self.vector, Unset):
            vector = UNSET
        elif isinstance(self.vector, list):
            vector = self.vector

        else:
            vector = self.vector

        with_payload = self.with_payload

        with_vector = self.with_vector

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if explain is not UNSET:
            field_dict["explain"] = explain
        if filter_ is not UNSET:
            field_dict["filter"] = filter_
        if fusion is not UNSET:
            field_dict["fusion"] = fusion
        if lexical is not UNSET:
            field_dict["lexical"] = lexical
        if limit is not UNSET:
            field_dict["limit"] = limit
        if mode is not UNSET:
            field_dict["mode"] = mode
        if multivector is not UNSET:
            field_dict["multivector"] = multivector
        if params is not UNSET:
            field_dict["params"] = params
        if point is not UNSET:
            field_dict["point"] = point
        if prefetch is not UNSET:
            field_dict["prefetch"] = prefetch
        if rerank is not UNSET:
            field_dict["rerank"] = rerank
        if sparse is not UNSET:
            field_dict["sparse"] = sparse
        if text is not UNSET:
            field_dict["text"] = text
        if using is not UNSET:
            field_dict["using"] = using
        if vector is not UNSET:
            field_dict["vector"] = vector
        if with_payload is not UNSET:
            field_dict["with_payload"] = with_payload
        if with_vector is not UNSET:
            field_dict["with_vector"] = with_vector

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.filter_ import Filter
        from ..models.fusion_rrf import FusionRrf
        from ..models.fusion_weights import FusionWeights
        from ..models.query_stage import QueryStage
        from ..models.rerank_stage import RerankStage
        from ..models.search_params import SearchParams
        from ..models.sparse_vector import SparseVector

        d = dict(src_dict)
        explain = d.pop("explain", UNSET)

        def _parse_filter_(data: object) -> Filter | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                filter_type_1 = Filter.from_dict(data)

                return filter_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Filter | None | Unset, data)

        filter_ = _parse_filter_(d.pop("filter", UNSET))

        def _parse_fusion(
            data: object,
        ) -> FusionName | FusionRrf | FusionWeights | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                componentsschemas_fusion_type_0 = FusionName(data)

                return componentsschemas_fusion_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_fusion_type_1 = FusionRrf.from_dict(data)

                return componentsschemas_fusion_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_fusion_type_2 = FusionWeights.from_dict(data)

                return componentsschemas_fusion_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FusionName | FusionRrf | FusionWeights | None | Unset, data)

        fusion = _parse_fusion(d.pop("fusion", UNSET))

        def _parse_lexical(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        lexical = _parse_lexical(d.pop("lexical", UNSET))

        limit = d.pop("limit", UNSET)

        def _parse_mode(data: object) -> None | QueryMode | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                mode_type_1 = QueryMode(data)

                return mode_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | QueryMode | Unset, data)

        mode = _parse_mode(d.pop("mode", UNSET))

        def _parse_multivector(data: object) -> list[list[float]] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                multivector_type_0 = []
                _multivector_type_0 = data
                for multivector_type_0_item_data in _multivector_type_0:
                    multivector_type_0_item = cast(
                        list[float], multivector_type_0_item_data
                    )

                    multivector_type_0.append(multivector_type_0_item)

                return multivector_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[list[float]] | None | Unset, data)

        multivector = _parse_multivector(d.pop("multivector", UNSET))

        _params = d.pop("params", UNSET)
        params: SearchParams | Unset
        if isinstance(_params, Unset):
            params = UNSET
        else:
            params = SearchParams.from_dict(_params)

        def _parse_point(data: object) -> int | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | str | Unset, data)

        point = _parse_point(d.pop("point", UNSET))

        def _parse_prefetch(data: object) -> list[QueryStage] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                prefetch_type_0 = []
                _prefetch_type_0 = data
                for prefetch_type_0_item_data in _prefetch_type_0:
                    prefetch_type_0_item = QueryStage.from_dict(
                        prefetch_type_0_item_data
                    )

                    prefetch_type_0.append(prefetch_type_0_item)

                return prefetch_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[QueryStage] | None | Unset, data)

        prefetch = _parse_prefetch(d.pop("prefetch", UNSET))

        def _parse_rerank(data: object) -> None | RerankStage | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                rerank_type_1 = RerankStage.from_dict(data)

                return rerank_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RerankStage | Unset, data)

        rerank = _parse_rerank(d.pop("rerank", UNSET))

        def _parse_sparse(data: object) -> None | SparseVector | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sparse_type_1 = SparseVector.from_dict(data)

                return sparse_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SparseVector | Unset, data)

        sparse = _parse_sparse(d.pop("sparse", UNSET))

        def _parse_text(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        text = _parse_text(d.pop("text", UNSET))

        def _parse_using(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        using = _parse_using(d.pop("using", UNSET))

        def _parse_vector(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                vector_type_0 = cast(list[float], data)

                return vector_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        vector = _parse_vector(d.pop("vector", UNSET))

        with_payload = d.pop("with_payload", UNSET)

        with_vector = d.pop("with_vector", UNSET)

        query_request = cls(
            explain=explain,
            filter_=filter_,
            fusion=fusion,
            lexical=lexical,
            limit=limit,
            mode=mode,
            multivector=multivector,
            params=params,
            point=point,
            prefetch=prefetch,
            rerank=rerank,
            sparse=sparse,
            text=text,
            using=using,
            vector=vector,
            with_payload=with_payload,
            with_vector=with_vector,
        )

        return query_request
