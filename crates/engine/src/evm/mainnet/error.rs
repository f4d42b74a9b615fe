//! [`LoadError`]: why a block folder could not be loaded.

use std::path::PathBuf;

/// Why a block folder could not be loaded. Every message starts with the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or folder could not be read (or a `.gz` file could not be decompressed).
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Neither `<name>` nor `<name>.gz` exists in the block folder.
    #[error("{}: file not found (nor {name}.gz)", dir.join(name).display())]
    MissingFile { dir: PathBuf, name: String },
    /// The file is not valid JSON.
    #[error("{}: malformed JSON: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A field is missing or has an invalid value. `field` is a path such as
    /// `transactions[3].gas`.
    #[error("{}: {field}: {reason}", path.display())]
    Field {
        path: PathBuf,
        field: String,
        reason: String,
    },
    /// `spec.txt` names no known hardfork.
    #[error("{}: unknown hardfork name {name:?} (expected one of Frontier, Homestead, Tangerine, SpuriousDragon, Byzantium, Constantinople, Petersburg, Istanbul, Berlin, London, Paris/Merge, Shanghai, Cancun, Prague, Osaka)", path.display())]
    UnknownSpec { path: PathBuf, name: String },
    /// The path is neither a block folder nor a folder of block folders.
    #[error("{}: no block folder here (no block.json or block.json.gz in it or in its subfolders)", path.display())]
    NoBlocks { path: PathBuf },
}
