//! Loading the ONNX Runtime shared library, once per process.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{EncodeError, Result};

/// The environment lives as long as the process: ONNX Runtime keeps only a weak
/// reference to it, and sessions need it alive.
static RUNTIME: OnceLock<std::result::Result<(PathBuf, ort::environment::Environment), String>> =
    OnceLock::new();

/// Loads `libonnxruntime` from `lib` and creates the process-wide environment.
///
/// ONNX Runtime allows one environment per process: the first call decides, and
/// later calls return the first call's outcome whatever path they pass.
pub fn init_runtime(lib: &Path) -> Result<()> {
    let outcome = RUNTIME.get_or_init(|| {
        if !lib.is_file() {
            return Err(
                "no such file (run `make setup`, or pass --ort-lib / TRAWL_ORT_LIB)".to_string(),
            );
        }
        let builder = ort::init_from(lib).map_err(|e| e.to_string())?;
        let environment = builder
            .with_name("trawl")
            .build()
            .map_err(|e| e.to_string())?;
        Ok((lib.to_path_buf(), environment))
    });
    outcome
        .as_ref()
        .map(|_| ())
        .map_err(|reason| EncodeError::Runtime {
            path: lib.to_path_buf(),
            reason: reason.clone(),
        })
}

/// The process-wide environment, once [`init_runtime`] has succeeded.
pub(crate) fn environment() -> Result<&'static ort::environment::Environment> {
    match RUNTIME.get() {
        Some(Ok((_, environment))) => Ok(environment),
        Some(Err(reason)) => Err(EncodeError::Onnx(format!(
            "ONNX Runtime failed to load: {reason}"
        ))),
        None => Err(EncodeError::Onnx(
            "ONNX Runtime is not loaded: call init_runtime first".into(),
        )),
    }
}
