//! Full-text retrieval: BM25 over one payload text field, through tantivy.
//!
//! A collection created with a [`TextConfig`] indexes the string (or the
//! strings of a list) its points hold in the payload field `field`, with the
//! language's analyser: words split on non-alphanumerics, words longer than
//! [`MAX_TOKEN_LEN`] bytes dropped, lowercased, the language's stop words
//! removed (where tantivy has a list), stemmed.
//!
//! Each segment has its own tantivy index over its points' texts, a document
//! per point with its offset in a fast field ([`TextIndex`]): a sealed
//! segment's is built when the segment is written and kept as one
//! checksummed file, mapped ([`bundle`]); the appendable segment's lives in
//! memory and is committed after every write batch, so a write is found by
//! text once it is acknowledged. Deleted and replaced points stay in the
//! index until their segment is merged or vacuumed; searches skip them.
//!
//! BM25's statistics (documents, tokens, each term's document frequency)
//! are summed over every segment of the collection ([`Statistics`]): a
//! point's score does not depend on how the points happen to be split into
//! segments, and equals the score one tantivy index holding them all gives.

pub(crate) mod bundle;

use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tantivy::directory::RamDirectory;
use tantivy::query::{Bm25StatisticsProvider, BooleanQuery, EnableScoring, Query};
use tantivy::schema::{FAST, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{
    Index, IndexReader, IndexWriter, ReloadPolicy, Score, Searcher, TantivyDocument, Term,
};

use crate::storage::{MappedFile, StorageError};
use crate::topk::TopK;
use crate::types::{Offset, Payload};

/// Words longer than this many bytes are not indexed (tantivy's `en_stem`
/// limit: base64 blobs and URLs are not words).
pub const MAX_TOKEN_LEN: usize = 40;
/// The appendable segment's indexing memory (tantivy's smallest).
const APPENDABLE_BUDGET: usize = 15_000_000;
/// A sealed segment's build memory before tantivy writes a segment out.
const BUILD_BUDGET: usize = 64_000_000;
/// The analyser's name in tantivy's registry.
const ANALYSER: &str = "trawl";
/// The schema's fields.
const OFFSET: &str = "offset";
const BODY: &str = "body";
/// A sealed segment's text index file.
pub(crate) const FILE: &str = "text.bin";

/// A collection's full-text index: which payload field, in which language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextConfig {
    /// The payload field holding the text (an upsert's `text` is stored there).
    pub field: String,
    /// The analyser's language.
    pub language: TextLanguage,
}

impl TextConfig {
    /// The text(s) of `payload`, if its field holds a string or strings.
    pub fn texts<'a>(&self, payload: &'a Payload) -> Vec<&'a str> {
        match payload.get(&self.field) {
            Some(serde_json::Value::String(s)) => vec![s.as_str()],
            Some(serde_json::Value::Array(items)) => {
                items.iter().filter_map(serde_json::Value::as_str).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// Languages with a stemmer (ISO 639-1 codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum TextLanguage {
    Ar,
    Da,
    De,
    El,
    En,
    Es,
    Fi,
    Fr,
    Hu,
    It,
    Nl,
    No,
    Pt,
    Ro,
    Ru,
    Sv,
    Ta,
    Tr,
}

impl TextLanguage {
    /// Every language, for error messages and the API's schema.
    pub const ALL: [TextLanguage; 18] = [
        Self::Ar,
        Self::Da,
        Self::De,
        Self::El,
        Self::En,
        Self::Es,
        Self::Fi,
        Self::Fr,
        Self::Hu,
        Self::It,
        Self::Nl,
        Self::No,
        Self::Pt,
        Self::Ro,
        Self::Ru,
        Self::Sv,
        Self::Ta,
        Self::Tr,
    ];

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Ar => "ar",
            Self::Da => "da",
            Self::De => "de",
            Self::El => "el",
            Self::En => "en",
            Self::Es => "es",
            Self::Fi => "fi",
            Self::Fr => "fr",
            Self::Hu => "hu",
            Self::It => "it",
            Self::Nl => "nl",
            Self::No => "no",
            Self::Pt => "pt",
            Self::Ro => "ro",
            Self::Ru => "ru",
            Self::Sv => "sv",
            Self::Ta => "ta",
            Self::Tr => "tr",
        }
    }

    /// The language of an ISO 639-1 code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == code)
    }

    fn tantivy(self) -> Language {
        match self {
            Self::Ar => Language::Arabic,
            Self::Da => Language::Danish,
            Self::De => Language::German,
            Self::El => Language::Greek,
            Self::En => Language::English,
            Self::Es => Language::Spanish,
            Self::Fi => Language::Finnish,
            Self::Fr => Language::French,
            Self::Hu => Language::Hungarian,
            Self::It => Language::Italian,
            Self::Nl => Language::Dutch,
            Self::No => Language::Norwegian,
            Self::Pt => Language::Portuguese,
            Self::Ro => Language::Romanian,
            Self::Ru => Language::Russian,
            Self::Sv => Language::Swedish,
            Self::Ta => Language::Tamil,
            Self::Tr => Language::Turkish,
        }
    }
}

/// The analyser of `language`.
pub fn analyser(language: TextLanguage) -> TextAnalyzer {
    let l = language.tantivy();
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_LEN))
        .filter(LowerCaser)
        .dynamic();
    let builder = match StopWordFilter::new(l) {
        Some(stop) => builder.filter_dynamic(stop),
        None => builder,
    };
    builder.filter_dynamic(Stemmer::new(l)).build()
}

/// The schema's fields.
#[derive(Debug, Clone, Copy)]
struct Fields {
    offset: Field,
    body: Field,
}

/// Every segment's index has this schema (so that a term means the same
/// field in each, as [`Statistics`] needs).
fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let offset = builder.add_u64_field(OFFSET, FAST);
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(ANALYSER)
        .set_index_option(IndexRecordOption::WithFreqs)
        .set_fieldnorms(true);
    let body = builder.add_text_field(BODY, TextOptions::default().set_indexing_options(indexing));
    (builder.build(), Fields { offset, body })
}

fn failed(path: &Path, error: impl std::fmt::Display) -> StorageError {
    StorageError::io(path, std::io::Error::other(error.to_string()))
}

/// One segment's text index.
pub(crate) struct TextIndex {
    reader: IndexReader,
    fields: Fields,
    /// The appendable segment's writer and its memory (dropped once frozen).
    writer: Option<Mutex<IndexWriter>>,
    ram: Option<RamDirectory>,
    /// Where errors are reported from (the segment's file, or the collection).
    path: std::path::PathBuf,
    /// Which payload field holds the text.
    config: Option<TextConfig>,
}

fn document(fields: Fields, offset: Offset, texts: &[&str]) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    doc.add_u64(fields.offset, u64::from(offset));
    for text in texts {
        doc.add_text(fields.body, text);
    }
    doc
}

impl TextIndex {
    /// An empty in-memory index for the appendable segment (errors name `path`).
    pub(crate) fn appendable(config: &TextConfig, path: &Path) -> Result<Self, StorageError> {
        let (schema, fields) = schema();
        let ram = RamDirectory::create();
        let index = Index::create(ram.clone(), schema, tantivy::IndexSettings::default())
            .map_err(|e| failed(path, e))?;
        let writer = writer(&index, config, APPENDABLE_BUDGET, path)?;
        let reader = reader(&index, path)?;
        Ok(Self {
            reader,
            fields,
            writer: Some(Mutex::new(writer)),
            ram: Some(ram),
            path: path.to_path_buf(),
            config: Some(config.clone()),
        })
    }

    /// Indexes the text of the point at `offset` (appendable segment).
    pub(crate) fn add(&self, offset: Offset, payload: &Payload) {
        let (Some(writer), Some(config)) = (&self.writer, &self.config) else {
            return;
        };
        let texts = config.texts(payload);
        if texts.is_empty() {
            return;
        }
        if let Err(error) = writer
            .lock()
            .add_document(document(self.fields, offset, &texts))
        {
            tracing::error!(%error, path = %self.path.display(), "cannot index a point's text");
        }
    }

    /// Makes what was added searchable (appendable segment).
    pub(crate) fn commit(&self) {
        let Some(writer) = &self.writer else {
            return;
        };
        let mut writer = writer.lock();
        if let Err(error) = writer
            .commit()
            .map(|_| ())
            .and_then(|()| self.reader.reload())
        {
            tracing::error!(%error, path = %self.path.display(), "cannot commit the text index");
        }
    }

    /// The appendable segment is frozen: commit, and stop its writer's threads.
    pub(crate) fn freeze(&mut self) {
        self.commit();
        if let Some(writer) = self.writer.take()
            && let Err(error) = writer.into_inner().wait_merging_threads()
        {
            tracing::warn!(%error, path = %self.path.display(), "text index merge failed");
        }
        if let Err(error) = self.reader.reload() {
            tracing::error!(%error, path = %self.path.display(), "cannot reload the text index");
        }
    }

    /// Builds a sealed segment's index over `texts` (offset, texts of that
    /// point) into the bundle `path`, through a scratch directory beside it.
    pub(crate) fn build(
        config: &TextConfig,
        path: &Path,
        texts: impl Iterator<Item = (Offset, Vec<String>)>,
    ) -> Result<(), StorageError> {
        let scratch = path.with_extension("build");
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch).map_err(|e| StorageError::io(&scratch, e))?;
        }
        std::fs::create_dir(&scratch).map_err(|e| StorageError::io(&scratch, e))?;
        let (schema, fields) = schema();
        let index = Index::create_in_dir(&scratch, schema).map_err(|e| failed(&scratch, e))?;
        let mut writer = writer(&index, config, BUILD_BUDGET, &scratch)?;
        for (offset, point_texts) in texts {
            if point_texts.is_empty() {
                continue;
            }
            let refs: Vec<&str> = point_texts.iter().map(AsRef::as_ref).collect();
            writer
                .add_document(document(fields, offset, &refs))
                .map_err(|e| failed(&scratch, e))?;
        }
        writer.commit().map_err(|e| failed(&scratch, e))?;
        // One tantivy segment per sealed segment: a search walks one list per term.
        let ids = index
            .searchable_segment_ids()
            .map_err(|e| failed(&scratch, e))?;
        if ids.len() > 1 {
            writer.merge(&ids).wait().map_err(|e| failed(&scratch, e))?;
        }
        writer
            .garbage_collect_files()
            .wait()
            .map_err(|e| failed(&scratch, e))?;
        writer
            .wait_merging_threads()
            .map_err(|e| failed(&scratch, e))?;
        drop(index);
        bundle::write(path, &scratch)?;
        std::fs::remove_dir_all(&scratch).map_err(|e| StorageError::io(&scratch, e))?;
        Ok(())
    }

    /// Opens a sealed segment's bundle (checking its checksum first when `verify`).
    pub(crate) fn open(path: &Path, verify: bool) -> Result<Self, StorageError> {
        let file = MappedFile::open(path, bundle::KIND, bundle::VERSION, true)?;
        if verify {
            file.verify()?;
        }
        let directory = bundle::BundleDirectory::new(Arc::new(file), path)?;
        let index = Index::open(directory)
            .map_err(|e| StorageError::corrupt(path, format!("tantivy cannot open it: {e}")))?;
        let (_, fields) = schema();
        let reader = reader(&index, path)?;
        Ok(Self {
            reader,
            fields,
            writer: None,
            ram: None,
            path: path.to_path_buf(),
            config: None,
        })
    }

    /// The index as of its last commit.
    pub(crate) fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Where its errors are reported from.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Heap bytes (the appendable segment's in-memory files).
    pub(crate) fn ram_bytes(&self) -> usize {
        self.ram.as_ref().map_or(0, RamDirectory::total_mem_usage)
    }
}

/// A writer of `index` with the collection's analyser: one indexing thread
/// and one merge thread (a segment's index is small; the sealer and the
/// write pool already use the cores), `budget` bytes before a flush.
fn writer(
    index: &Index,
    config: &TextConfig,
    budget: usize,
    path: &Path,
) -> Result<IndexWriter, StorageError> {
    index
        .tokenizers()
        .register(ANALYSER, analyser(config.language));
    let options = tantivy::indexer::IndexWriterOptions::builder()
        .num_worker_threads(1)
        .num_merge_threads(1)
        .memory_budget_per_thread(budget)
        .build();
    index
        .writer_with_options(options)
        .map_err(|e| failed(path, e))
}

fn reader(index: &Index, path: &Path) -> Result<IndexReader, StorageError> {
    index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .map_err(|e| failed(path, e))
}

/// A text query: the analysed terms of a text, each an optional clause.
pub struct TextQuery {
    query: BooleanQuery,
    terms: usize,
}

impl TextQuery {
    /// Analyses `text` as the collection's texts are.
    pub fn new(config: &TextConfig, text: &str) -> Self {
        let (_, fields) = schema();
        let mut analyser = analyser(config.language);
        let mut stream = analyser.token_stream(text);
        let mut terms = Vec::new();
        while stream.advance() {
            terms.push(Term::from_field_text(fields.body, &stream.token().text));
        }
        Self {
            terms: terms.len(),
            query: BooleanQuery::new_multiterms_query(terms),
        }
    }

    /// Whether the text left no term to search (empty, or only stop words).
    pub fn is_empty(&self) -> bool {
        self.terms == 0
    }
}

/// BM25 statistics summed over every segment's index.
pub(crate) struct Statistics {
    searchers: Vec<Searcher>,
}

impl Statistics {
    pub(crate) fn new(searchers: Vec<Searcher>) -> Self {
        Self { searchers }
    }

    /// Searches segment `searcher` (one of those the statistics sum over):
    /// the `k` best points `allowed` lets through, by BM25.
    pub(crate) fn search(
        &self,
        searcher: &Searcher,
        query: &TextQuery,
        k: usize,
        allowed: &dyn Fn(Offset) -> bool,
        path: &Path,
    ) -> Result<Vec<(Offset, f32)>, StorageError> {
        if k == 0 || query.is_empty() {
            return Ok(Vec::new());
        }
        let corrupt = |e: tantivy::TantivyError| {
            StorageError::corrupt(path, format!("the text index cannot be read: {e}"))
        };
        let weight = query
            .query
            .weight(EnableScoring::enabled_from_statistics_provider(
                self, searcher,
            ))
            .map_err(corrupt)?;
        // One top-k over the index's tantivy segments: tantivy skips blocks
        // of postings that cannot beat the k-th score found so far.
        let mut top = TopK::new(k);
        for reader in searcher.segment_readers() {
            let offsets = reader.fast_fields().u64(OFFSET).map_err(corrupt)?;
            let alive = reader.alive_bitset();
            weight
                .for_each_pruning(
                    top.threshold().unwrap_or(Score::MIN),
                    reader,
                    &mut |doc, score| {
                        if alive.is_none_or(|a| a.is_alive(doc))
                            && let Some(offset) = offsets.first(doc)
                            && let Ok(offset) = Offset::try_from(offset)
                            && allowed(offset)
                        {
                            top.push(score, offset);
                        }
                        top.threshold().unwrap_or(Score::MIN)
                    },
                )
                .map_err(corrupt)?;
        }
        Ok(top.into_sorted())
    }
}

impl Bm25StatisticsProvider for Statistics {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        let mut total = 0;
        for searcher in &self.searchers {
            total += searcher.total_num_tokens(field)?;
        }
        Ok(total)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        let mut total = 0;
        for searcher in &self.searchers {
            total += searcher.total_num_docs()?;
        }
        Ok(total)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let mut total = 0;
        for searcher in &self.searchers {
            total += searcher.doc_freq(term)?;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testdir::TestDir;

    fn config() -> TextConfig {
        TextConfig {
            field: "body".into(),
            language: TextLanguage::En,
        }
    }

    fn payload(text: &str) -> Payload {
        let mut p = Payload::new();
        p.insert("body".into(), serde_json::json!(text));
        p
    }

    const DOCS: [&str; 4] = [
        "Proteins bind to the receptor",
        "a protein binding assay",
        "unrelated words entirely",
        "receptors and running mice",
    ];

    fn hits(index: &TextIndex, text: &str) -> Vec<Offset> {
        let stats = Statistics::new(vec![index.searcher()]);
        let query = TextQuery::new(&config(), text);
        stats
            .search(&index.searcher(), &query, 10, &|_| true, index.path())
            .unwrap()
            .into_iter()
            .map(|(o, _)| o)
            .collect()
    }

    #[test]
    fn a_sealed_bundle_answers_as_the_appendable_index_did() {
        let dir = TestDir::new("text-bundle");
        let appendable = TextIndex::appendable(&config(), dir.path()).unwrap();
        for (o, text) in DOCS.iter().enumerate() {
            appendable.add(o as Offset, &payload(text));
        }
        appendable.commit();
        let path = dir.join(FILE);
        TextIndex::build(
            &config(),
            &path,
            DOCS.iter()
                .enumerate()
                .map(|(o, t)| (o as Offset, vec![t.to_string()])),
        )
        .unwrap();
        let sealed = TextIndex::open(&path, true).unwrap();
        for q in ["protein", "RECEPTOR binds", "running", "nothing"] {
            assert_eq!(hits(&appendable, q), hits(&sealed, q), "{q}");
        }
        assert_eq!(hits(&sealed, "protein"), vec![0, 1]);
        assert_eq!(hits(&sealed, "receptors"), vec![0, 3]);
        assert_eq!(hits(&sealed, "running receptor"), vec![3, 0]);
        assert!(hits(&sealed, "nothing").is_empty());
        assert!(TextQuery::new(&config(), "the and of").is_empty());
    }
}
