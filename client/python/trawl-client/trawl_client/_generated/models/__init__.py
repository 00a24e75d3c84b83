"""Contains all the data models used in inputs/outputs"""

from .alias_actions import AliasActions
from .alias_entry import AliasEntry
from .alias_list import AliasList
from .batch_search_request import BatchSearchRequest
from .batch_search_response import BatchSearchResponse
from .binary_encoding import BinaryEncoding
from .cluster_collection import ClusterCollection
from .cluster_node import ClusterNode
from .cluster_replica import ClusterReplica
from .cluster_shard import ClusterShard
from .cluster_status import ClusterStatus
from .collection_ack import CollectionAck
from .collection_info import CollectionInfo
from .collection_info_payload_indexes import CollectionInfoPayloadIndexes
from .collection_info_vectors import CollectionInfoVectors
from .collection_list import CollectionList
from .collection_summary import CollectionSummary
from .condition_exists import ConditionExists
from .condition_has_id import ConditionHasId
from .condition_match import ConditionMatch
from .condition_range import ConditionRange
from .count_request import CountRequest
from .count_response import CountResponse
from .create_alias import CreateAlias
from .create_alias_action import CreateAliasAction
from .create_collection import CreateCollection
from .create_collection_payload_indexes import CreateCollectionPayloadIndexes
from .create_collection_vectors import CreateCollectionVectors
from .delete_alias import DeleteAlias
from .delete_alias_action import DeleteAliasAction
from .delete_payload_keys import DeletePayloadKeys
from .delete_points import DeletePoints
from .delete_result import DeleteResult
from .embed_kind import EmbedKind
from .embed_request import EmbedRequest
from .embed_response import EmbedResponse
from .encoding_format import EncodingFormat
from .error_body import ErrorBody
from .error_detail import ErrorDetail
from .facet_request import FacetRequest
from .facet_response import FacetResponse
from .facet_value import FacetValue
from .filter_ import Filter
from .fusion_name import FusionName
from .fusion_rrf import FusionRrf
from .fusion_weights import FusionWeights
from .health import Health
from .hit import Hit
from .hit_payload_type_0 import HitPayloadType0
from .hit_vectors import HitVectors
from .hnsw_config import HnswConfig
from .match_any import MatchAny
from .match_equals import MatchEquals
from .match_text import MatchText
from .memory_info import MemoryInfo
from .memory_info_disk import MemoryInfoDisk
from .memory_info_ram import MemoryInfoRam
from .metric import Metric
from .muvera_config import MuveraConfig
from .open_ai_embedding_data import OpenAiEmbeddingData
from .open_ai_embeddings_request import OpenAiEmbeddingsRequest
from .open_ai_embeddings_response import OpenAiEmbeddingsResponse
from .open_ai_model import OpenAiModel
from .open_ai_model_list import OpenAiModelList
from .open_ai_usage import OpenAiUsage
from .operation import Operation
from .operation_status import OperationStatus
from .payload_index_type import PayloadIndexType
from .point_input import PointInput
from .point_input_payload_type_0 import PointInputPayloadType0
from .point_input_vectors import PointInputVectors
from .point_record import PointRecord
from .point_record_payload_type_0 import PointRecordPayloadType0
from .point_record_vectors import PointRecordVectors
from .query_mode import QueryMode
from .query_request import QueryRequest
from .query_stage import QueryStage
from .range_ import Range
from .readiness import Readiness
from .recover_collection import RecoverCollection
from .rerank_stage import RerankStage
from .restore_ack import RestoreAck
from .rrf_params import RrfParams
from .scroll_request import ScrollRequest
from .scroll_response import ScrollResponse
from .search_params import SearchParams
from .search_request import SearchRequest
from .search_response import SearchResponse
from .set_payload import SetPayload
from .set_payload_payload import SetPayloadPayload
from .snapshot_ack import SnapshotAck
from .snapshot_deleted import SnapshotDeleted
from .snapshot_description import SnapshotDescription
from .snapshot_list import SnapshotList
from .sparse_kind import SparseKind
from .sparse_vector import SparseVector
from .sparse_vector_config import SparseVectorConfig
from .stage_score import StageScore
from .text_index import TextIndex
from .update_result import UpdateResult
from .upsert_points import UpsertPoints
from .upsert_result import UpsertResult
from .usage import Usage
from .vector_config import VectorConfig

__all__ = (
    "AliasActions",
    "AliasEntry",
    "AliasList",
    "BatchSearchRequest",
    "BatchSearchResponse",
    "BinaryEncoding",
    "ClusterCollection",
    "ClusterNode",
    "ClusterReplica",
    "ClusterShard",
    "ClusterStatus",
    "CollectionAck",
    "CollectionInfo",
    "CollectionInfoPayloadIndexes",
    "CollectionInfoVectors",
    "CollectionList",
    "CollectionSummary",
    "ConditionExists",
    "ConditionHasId",
    "ConditionMatch",
    "ConditionRange",
    "CountRequest",
    "CountResponse",
    "CreateAlias",
    "CreateAliasAction",
    "CreateCollection",
    "CreateCollectionPayloadIndexes",
    "CreateCollectionVectors",
    "DeleteAlias",
    "DeleteAliasAction",
    "DeletePayloadKeys",
    "DeletePoints",
    "DeleteResult",
    "EmbedKind",
    "EmbedRequest",
    "EmbedResponse",
    "EncodingFormat",
    "ErrorBody",
    "ErrorDetail",
    "FacetRequest",
    "FacetResponse",
    "FacetValue",
    "Filter",
    "FusionName",
    "FusionRrf",
    "FusionWeights",
    "Health",
    "Hit",
    "HitPayloadType0",
    "HitVectors",
    "HnswConfig",
    "MatchAny",
    "MatchEquals",
    "MatchText",
    "MemoryInfo",
    "MemoryInfoDisk",
    "MemoryInfoRam",
    "Metric",
    "MuveraConfig",
    "OpenAiEmbeddingData",
    "OpenAiEmbeddingsRequest",
    "OpenAiEmbeddingsResponse",
    "OpenAiModel",
    "OpenAiModelList",
    "OpenAiUsage",
    "Operation",
    "OperationStatus",
    "PayloadIndexType",
    "PointInput",
    "PointInputPayloadType0",
    "PointInputVectors",
    "PointRecord",
    "PointRecordPayloadType0",
    "PointRecordVectors",
    "QueryMode",
    "QueryRequest",
    "QueryStage",
    "Range",
    "Readiness",
    "RecoverCollection",
    "RerankStage",
    "RestoreAck",
    "RrfParams",
    "ScrollRequest",
    "ScrollResponse",
    "SearchParams",
    "SearchRequest",
    "SearchResponse",
    "SetPayload",
    "SetPayloadPayload",
    "SnapshotAck",
    "SnapshotDeleted",
    "SnapshotDescription",
    "SnapshotList",
    "SparseKind",
    "SparseVector",
    "SparseVectorConfig",
    "StageScore",
    "TextIndex",
    "UpdateResult",
    "UpsertPoints",
    "UpsertResult",
    "Usage",
    "VectorConfig",
)
