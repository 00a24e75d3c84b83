//! Query: retrieval stages (dense, multivector, by example, sparse, lexical) fused
//! into one ranking.
//!
//! A request gives its stages in `prefetch`, or one stage at the top level,
//! or a `text` with `mode: "hybrid"` (every retriever a text can query: the
//! vectors the model fills and the full-text index). Every stage runs with
//! the query's filter and its own; one stage alone answers with its own
//! scores, several are fused (`rrf`, `dbsf` or weighted min-max scores) and
//! only the fused hits read their payloads and vectors.

use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use trawl_index::fusion::{self, Fused, Fusion as DomainFusion};
use trawl_index::{Collection, CollectionConfig, PointId, TextSearch};
use trawl_proto::{
    Condition, ErrorBody, Filter, Fusion, FusionName, Hit, QueryMode, QueryRequest, QueryStage,
    RerankStage, SearchParams, SearchRequest, SearchResponse, StageScore,
};

use crate::convert;
use crate::error::{ApiError, ApiJson};
use crate::routes::search::run;
use crate::routes::{BodyRejections, CollectionPath, KeyRequired, Unavailable, blocking};
use crate::state::AppState;

/// Candidates a stage passes to fusion when it does not set its `limit`
/// (at least the query's own `limit`).
pub const PREFETCH_LIMIT: usize = 100;
/// Reciprocal rank fusion's default `k`.
const RRF_K: f32 = 60.0;

/// Query: retrieval stages on named vectors and the full-text index,
/// fused into one ranking.
#[utoipa::path(post, path = "/collections/{name}/query", tag = "search", request_body = QueryRequest,
    params(CollectionPath),
    responses(
        (status = 200, description = "Hits, best first", body = SearchResponse),
        (status = 404, description = "No such collection, or no such point to search by", body = ErrorBody),
        (status = 413, description = "Body larger than --max-body-bytes, too many query tokens, or more stages than --max-batch-searches", body = ErrorBody),
        (status = 422, description = "Bad stage, vector, filter, fusion or parameter", body = ErrorBody),
        (status = 429, description = "The embedding queue is full (text queries)", body = ErrorBody),
        BodyRejections, Unavailable, KeyRequired,
    ))]
pub async fn query(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
    ApiJson(request): ApiJson<QueryRequest>,
) -> Result<Json<SearchResponse>, ApiError> {
    let started = Instant::now();
    let collection = state.store()?.get(&name)?;
    let config = collection.config();
    let max_limit = state.config().limits.max_limit;
    if request.limit == 0 || request.limit > max_limit {
        return Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and {max_limit}, got {}", request.limit),
        ));
    }
    let stages = stages(&state, &request, &config)?;
    let fusion = fusion_of(&request, stages.len())?;
    let fused = fusion.is_some();
    // With a rerank, the stages (fused or not) pass on its candidates.
    let candidates = match request.rerank.as_ref().map(|r| r.limit) {
        None => request.limit,
        Some(Some(l)) if l == 0 || l > max_limit => {
            return Err(ApiError::invalid(
                "rerank.limit",
                format!("must be between 1 and {max_limit}, got {l}"),
            ));
        }
        Some(l) => l
            .unwrap_or(PREFETCH_LIMIT)
            .max(request.limit)
            .min(max_limit),
    };
    let reranked = request.rerank.is_some();
    // Payloads and vectors are read for the final hits only.
    let deferred = fused || reranked;
    let mut lists = Vec::with_capacity(stages.len());
    let mut vector_stages = Vec::new();
    for (i, (stage, at)) in stages.iter().enumerate() {
        let limit = match stage.limit {
            Some(l) if l == 0 || l > max_limit => {
                return Err(ApiError::invalid(
                    format!("{at}limit"),
                    format!("must be between 1 and {max_limit}, got {l}"),
                ));
            }
            Some(l) if fused => l,
            Some(l) => l.min(candidates),
            None if fused => PREFETCH_LIMIT.max(candidates).min(max_limit),
            None => candidates,
        };
        let filter = combined_filter(request.filter.as_ref(), stage.filter.as_ref());
        lists.push(Vec::new());
        if let Some(vector) = &stage.sparse {
            let at_time = Instant::now();
            lists[i] = sparse(
                &state,
                &collection,
                stage,
                vector,
                at,
                filter,
                limit,
                &request,
                deferred,
            )
            .await?;
            state
                .metrics()
                .observe_query_stage("sparse", at_time.elapsed().as_secs_f64());
        } else if let Some(text) = &stage.lexical {
            if stage.using.is_some()
                || stage.vector.is_some()
                || stage.text.is_some()
                || stage.multivector.is_some()
                || stage.point.is_some()
                || stage.params != SearchParams::default()
            {
                return Err(ApiError::invalid(
                    format!("{at}lexical"),
                    "a lexical stage takes only `lexical`, `filter` and `limit`",
                ));
            }
            let at = Instant::now();
            lists[i] =
                lexical(&state, &collection, text, filter, limit, &request, deferred).await?;
            state
                .metrics()
                .observe_query_stage("lexical", at.elapsed().as_secs_f64());
        } else {
            let search = vector_search(
                &collection,
                &config,
                stage,
                at,
                filter,
                limit,
                &request,
                deferred,
            )
            .await?;
            vector_stages.push((i, search));
        }
    }
    if !vector_stages.is_empty() {
        let prefixes: Vec<String> = vector_stages
            .iter()
            .map(|(i, _)| stages[*i].1.clone())
            .collect();
        let searches = vector_stages.iter().map(|(_, s)| s.clone()).collect();
        let at = Instant::now();
        let answers = run(&state, collection.clone(), searches, &prefixes).await?;
        state
            .metrics()
            .observe_query_stage("dense", at.elapsed().as_secs_f64());
        for ((i, _), answer) in vector_stages.iter().zip(answers) {
            lists[*i] = answer.hits;
        }
    }
    let mut hits = match fusion {
        None => {
            let mut hits = lists.pop().unwrap_or_default();
            for (rank, hit) in hits.iter_mut().enumerate() {
                hit.explain = Some(vec![StageScore {
                    stage: 0,
                    rank: rank + 1,
                    score: hit.score,
                }]);
            }
            hits
        }
        Some(fusion) => {
            let at = Instant::now();
            let hits = fuse(
                &collection,
                &config,
                &lists,
                &fusion,
                &request,
                candidates,
                !reranked,
            )
            .await?;
            state
                .metrics()
                .observe_query_stage("fusion", at.elapsed().as_secs_f64());
            hits
        }
    };
    if let Some(stage) = &request.rerank {
        let at = Instant::now();
        hits = rerank(
            &state,
            &collection,
            &config,
            stage,
            hits,
            &request,
            stages.len(),
        )
        .await?;
        state
            .metrics()
            .observe_query_stage("rerank", at.elapsed().as_secs_f64());
    }
    if !request.explain {
        for hit in &mut hits {
            hit.explain = None;
        }
    }
    Ok(Json(SearchResponse {
        hits,
        took_ms: started.elapsed().as_secs_f64() * 1e3,
    }))
}

/// The rerank stage: `hits` (the candidates) scored exactly on the vector
/// `stage.using`, the best `request.limit` returned; a hit's `explain`
/// gains its place in the rerank (stage `index`).
async fn rerank(
    state: &AppState,
    collection: &Collection,
    config: &CollectionConfig,
    stage: &RerankStage,
    hits: Vec<Hit>,
    request: &QueryRequest,
    index: usize,
) -> Result<Vec<Hit>, ApiError> {
    let using = stage.using.clone().unwrap_or_default();
    config.vector(&using, "rerank.using")?;
    let given = [
        stage.vector.is_some(),
        stage.text.is_some(),
        stage.multivector.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    let text = match (given, &request.text) {
        (0, Some(text)) => Some(text.clone()),
        (0, None) => {
            return Err(ApiError::invalid(
                "rerank.text",
                "give the rerank's query (`text`, `vector` or `multivector`), or query by a top-level `text`",
            ));
        }
        (1, _) => stage.text.clone(),
        _ => {
            return Err(ApiError::invalid(
                "rerank.vector",
                "give at most one of `vector`, `text` or `multivector`",
            ));
        }
    };
    if hits.is_empty() {
        return Ok(hits);
    }
    let mut places: std::collections::HashMap<trawl_proto::PointId, Vec<StageScore>> = hits
        .iter()
        .map(|h| (h.id.clone(), h.explain.clone().unwrap_or_default()))
        .collect();
    let search = SearchRequest {
        using: Some(using),
        vector: stage.vector.clone(),
        text,
        multivector: stage.multivector.clone(),
        filter: Some(Filter {
            must: vec![Condition::HasId {
                has_id: hits.iter().map(|h| h.id.clone()).collect(),
            }],
            ..Filter::default()
        }),
        limit: request.limit,
        with_payload: request.with_payload,
        with_vector: request.with_vector,
        params: SearchParams {
            exact: true,
            ..SearchParams::default()
        },
    };
    let mut answers = run(state, collection.clone(), vec![search], &["rerank.".into()]).await?;
    let mut reranked = answers.pop().map(|a| a.hits).unwrap_or_default();
    for (rank, hit) in reranked.iter_mut().enumerate() {
        let mut explain = places.remove(&hit.id).unwrap_or_default();
        explain.push(StageScore {
            stage: index,
            rank: rank + 1,
            score: hit.score,
        });
        hit.explain = Some(explain);
    }
    Ok(reranked)
}

/// The request's stages, each with the prefix its fields' errors carry.
fn stages(
    state: &AppState,
    request: &QueryRequest,
    config: &CollectionConfig,
) -> Result<Vec<(QueryStage, String)>, ApiError> {
    let top_level = QueryStage {
        using: request.using.clone(),
        vector: request.vector.clone(),
        text: request.text.clone(),
        multivector: request.multivector.clone(),
        point: request.point.clone(),
        lexical: request.lexical.clone(),
        sparse: request.sparse.clone(),
        filter: None,
        limit: None,
        params: request.params,
    };
    let given_top = top_level != QueryStage::default();
    if let Some(stages) = &request.prefetch {
        if given_top || request.mode.is_some() {
            return Err(ApiError::invalid(
                "prefetch",
                "give the stages in `prefetch` or one stage at the top level (or `text` with a `mode`), not both",
            ));
        }
        if stages.is_empty() {
            return Err(ApiError::invalid("prefetch", "give at least one stage"));
        }
        // Each stage is a search: as many as a batch may hold.
        ApiError::check_limit(
            "prefetch",
            stages.len(),
            state.config().limits.max_batch_searches,
        )?;
        return Ok(stages
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), format!("prefetch[{i}].")))
            .collect());
    }
    let Some(mode) = request.mode else {
        return Ok(vec![(top_level, String::new())]);
    };
    let Some(text) = request.text.clone() else {
        return Err(ApiError::invalid(
            "mode",
            "`mode` applies to a `text` query: give `text`",
        ));
    };
    if request.vector.is_some()
        || request.multivector.is_some()
        || request.point.is_some()
        || request.lexical.is_some()
        || request.sparse.is_some()
    {
        return Err(ApiError::invalid(
            "mode",
            "with `mode`, give the query as `text` alone",
        ));
    }
    let lexical = QueryStage {
        lexical: Some(text.clone()),
        ..QueryStage::default()
    };
    match mode {
        QueryMode::Dense => Ok(vec![(
            QueryStage {
                lexical: None,
                ..top_level
            },
            String::new(),
        )]),
        QueryMode::Lexical => {
            if request.using.is_some() || request.params != SearchParams::default() {
                return Err(ApiError::invalid(
                    "mode",
                    "a lexical query takes no `using` or `params`",
                ));
            }
            Ok(vec![(lexical, String::new())])
        }
        QueryMode::Hybrid => {
            if request.using.is_some() {
                return Err(ApiError::invalid(
                    "using",
                    "a hybrid query searches every vector a text fills: leave `using` out, or list the stages in `prefetch`",
                ));
            }
            let model_dims = state.try_embedder().map(|e| e.spec().dims);
            let mut stages: Vec<(QueryStage, String)> = config
                .vectors
                .iter()
                .filter(|(name, v)| {
                    if name.is_empty() {
                        model_dims.is_none_or(|d| d == v.dims)
                    } else {
                        v.encoder.is_some()
                    }
                })
                .map(|(name, _)| {
                    let stage = QueryStage {
                        using: (!name.is_empty()).then(|| name.clone()),
                        text: Some(text.clone()),
                        params: request.params,
                        ..QueryStage::default()
                    };
                    (stage, String::new())
                })
                .collect();
            if config.text.is_some() {
                stages.push((lexical, String::new()));
            }
            if stages.is_empty() {
                return Err(ApiError::invalid(
                    "mode",
                    "the collection has no retriever a text can query: no vector the model fills and no full-text index",
                ));
            }
            Ok(stages)
        }
    }
}

/// The fusion of `stages` stages: `None` for one stage without an explicit
/// fusion (it answers with its own scores).
fn fusion_of(request: &QueryRequest, stages: usize) -> Result<Option<DomainFusion>, ApiError> {
    let fusion = match &request.fusion {
        None if stages == 1 => return Ok(None),
        // Measured on SciFact (docs/benchmarks.md): DBSF 0.734 nDCG@10,
        // weighted min-max 0.729, RRF 0.712.
        None if request.mode == Some(QueryMode::Hybrid) => DomainFusion::Dbsf,
        None => DomainFusion::Rrf { k: RRF_K },
        Some(Fusion::Named(FusionName::Rrf)) => DomainFusion::Rrf { k: RRF_K },
        Some(Fusion::Named(FusionName::Dbsf)) => DomainFusion::Dbsf,
        Some(Fusion::Rrf { rrf }) => {
            if !(rrf.k.is_finite() && rrf.k >= 0.0) {
                return Err(ApiError::invalid(
                    "fusion.rrf.k",
                    format!("must be a number of 0 or more, got {}", rrf.k),
                ));
            }
            DomainFusion::Rrf { k: rrf.k }
        }
        Some(Fusion::Weights { weights }) => {
            if weights.len() != stages {
                return Err(ApiError::invalid(
                    "fusion.weights",
                    format!(
                        "give one weight per stage: {} stages, {} weights",
                        stages,
                        weights.len()
                    ),
                ));
            }
            if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
                return Err(ApiError::invalid(
                    "fusion.weights",
                    format!("weights must be numbers of 0 or more, got {w}"),
                ));
            }
            DomainFusion::Weighted(weights.clone())
        }
    };
    Ok(Some(fusion))
}

/// The query's filter and a stage's, both applying.
fn combined_filter(query: Option<&Filter>, stage: Option<&Filter>) -> Option<Filter> {
    match (query, stage) {
        (None, None) => None,
        (Some(f), None) | (None, Some(f)) => Some(f.clone()),
        (Some(a), Some(b)) => Some(Filter {
            must: vec![Condition::Nested(a.clone()), Condition::Nested(b.clone())],
            ..Filter::default()
        }),
    }
}

/// A lexical stage's hits (with payloads only when it answers alone).
async fn lexical(
    state: &AppState,
    collection: &Collection,
    text: &str,
    filter: Option<Filter>,
    limit: usize,
    request: &QueryRequest,
    deferred: bool,
) -> Result<Vec<Hit>, ApiError> {
    let filter = filter.as_ref().map(convert::filter).transpose()?;
    let filter_limits = state.config().filter_limits();
    let (with_payload, with_vector) = if deferred {
        (false, false)
    } else {
        (request.with_payload, request.with_vector)
    };
    let (collection, text) = (collection.clone(), text.to_string());
    blocking(move || {
        let config = collection.config();
        let found = collection.search_text(&TextSearch {
            text: &text,
            filter: filter.as_ref(),
            filter_limits,
            limit,
            with_payload,
            with_vector,
        })?;
        Ok(found
            .into_iter()
            .map(|h| convert::hit(&config, h))
            .collect())
    })
    .await
}

/// A sparse stage's hits (with payloads only when it answers alone).
#[allow(clippy::too_many_arguments)]
async fn sparse(
    state: &AppState,
    collection: &Collection,
    stage: &QueryStage,
    vector: &trawl_proto::SparseVector,
    at: &str,
    filter: Option<Filter>,
    limit: usize,
    request: &QueryRequest,
    deferred: bool,
) -> Result<Vec<Hit>, ApiError> {
    if stage.vector.is_some()
        || stage.text.is_some()
        || stage.multivector.is_some()
        || stage.point.is_some()
        || stage.lexical.is_some()
    {
        return Err(ApiError::invalid(
            format!("{at}sparse"),
            "a sparse stage takes `using`, `sparse`, `filter`, `limit` and `params.exact` only",
        ));
    }
    let params = stage.params;
    if params.ef.is_some() || params.oversample.is_some() || params.rerank.is_some() {
        return Err(ApiError::invalid(
            format!("{at}params"),
            "a sparse search takes only `exact` (score every candidate instead of pruning)",
        ));
    }
    let Some(using) = stage.using.clone() else {
        return Err(ApiError::invalid(
            format!("{at}using"),
            "name the sparse vector searched in `using`",
        ));
    };
    collection
        .config()
        .sparse_vector(&using, &format!("{at}using"))?;
    let query = trawl_index::sparse::SparseVector::prepare(
        &format!("{at}sparse"),
        vector.indices.clone(),
        vector.values.clone(),
    )?;
    let filter = filter.as_ref().map(convert::filter).transpose()?;
    let filter_limits = state.config().filter_limits();
    let (with_payload, with_vector) = if deferred {
        (false, false)
    } else {
        (request.with_payload, request.with_vector)
    };
    let collection = collection.clone();
    blocking(move || {
        let config = collection.config();
        let found = collection.search_sparse(&trawl_index::SparseSearch {
            using: &using,
            vector: &query,
            filter: filter.as_ref(),
            filter_limits,
            limit,
            exact: params.exact,
            with_payload,
            with_vector,
        })?;
        Ok(found
            .into_iter()
            .map(|h| convert::hit(&config, h))
            .collect())
    })
    .await
}

/// A vector stage as a search (by example: the example's stored vector,
/// the example itself filtered out).
#[allow(clippy::too_many_arguments)]
async fn vector_search(
    collection: &Collection,
    config: &CollectionConfig,
    stage: &QueryStage,
    at: &str,
    filter: Option<Filter>,
    limit: usize,
    request: &QueryRequest,
    deferred: bool,
) -> Result<SearchRequest, ApiError> {
    let using = stage.using.clone().unwrap_or_default();
    let (_, searched) = config.vector(&using, &format!("{at}using"))?;
    let given = [
        stage.vector.is_some(),
        stage.text.is_some(),
        stage.multivector.is_some(),
        stage.point.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(ApiError::invalid(
            format!("{at}vector"),
            "give exactly one of `vector`, `text`, `multivector`, `point`, `sparse` or `lexical`",
        ));
    }
    let mut filter = filter;
    let (mut vector, mut multivector) = (stage.vector.clone(), stage.multivector.clone());
    if let Some(example) = &stage.point {
        let id = convert::point_id(example, &format!("{at}point"))?;
        let source = collection.clone();
        let (mut stored, _) = blocking(move || Ok(source.get_vectors(&id)?)).await?;
        let Some(stored) = stored.remove(&using) else {
            return Err(ApiError::invalid(
                format!("{at}point"),
                format!("the point holds no vector {using:?} to search by"),
            ));
        };
        (vector, multivector) = convert::stored_vector(searched, stored);
        let not_itself = Filter {
            must_not: vec![Condition::HasId {
                has_id: vec![example.clone()],
            }],
            ..Filter::default()
        };
        filter = combined_filter(filter.as_ref(), Some(&not_itself));
    }
    Ok(SearchRequest {
        using: Some(using),
        vector,
        text: stage.text.clone(),
        multivector,
        filter,
        limit,
        with_payload: request.with_payload && !deferred,
        with_vector: request.with_vector && !deferred,
        params: stage.params,
    })
}

/// Fuses the stages' hits; the fused hits' payloads and vectors are read
/// then (a point deleted meanwhile is left out).
async fn fuse(
    collection: &Collection,
    config: &CollectionConfig,
    lists: &[Vec<Hit>],
    fusion: &DomainFusion,
    request: &QueryRequest,
    limit: usize,
    fill: bool,
) -> Result<Vec<Hit>, ApiError> {
    let mut domain: Vec<Vec<(PointId, f32)>> = Vec::with_capacity(lists.len());
    for list in lists {
        let mut ids = Vec::with_capacity(list.len());
        for hit in list {
            ids.push((convert::point_id(&hit.id, "id")?, hit.score));
        }
        domain.push(ids);
    }
    let fused: Vec<Fused> = fusion::fuse(&domain, fusion, limit);
    let (with_payload, with_vector) = (request.with_payload && fill, request.with_vector && fill);
    let (source, ids) = (
        collection.clone(),
        fused.iter().map(|f| f.id.clone()).collect::<Vec<_>>(),
    );
    let stored = if with_payload || with_vector {
        blocking(move || Ok(source.fetch(&ids, with_payload, with_vector))).await?
    } else {
        vec![None; fused.len()]
    };
    let want_fill = with_payload || with_vector;
    Ok(fused
        .into_iter()
        .zip(stored)
        .filter(|(_, point)| !want_fill || point.is_some())
        .map(|(f, point)| {
            let (payload, vector, vectors, sparse) = match point {
                Some(p) => (p.payload, p.vector, p.vectors, p.sparse),
                None => (None, None, Default::default(), Default::default()),
            };
            let v = convert::ApiVectors::new(config, vector, vectors, sparse);
            Hit {
                id: convert::api_id(&f.id),
                score: f.score,
                payload,
                vector: v.vector,
                multivector: v.multivector,
                vectors: v.vectors,
                explain: Some(
                    f.places
                        .iter()
                        .enumerate()
                        .filter_map(|(stage, place)| {
                            place.map(|(rank, score)| StageScore { stage, rank, score })
                        })
                        .collect(),
                ),
            }
        })
        .collect())
}
