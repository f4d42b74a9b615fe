//! Reading a block folder's JSON files, plain or gzip-compressed.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::LoadError;

/// Reads `<dir>/<stem>.json`, or else `<dir>/<stem>.json.gz`.
pub(super) fn read_json(dir: &Path, stem: &str) -> Result<(PathBuf, Value), LoadError> {
    let plain = dir.join(format!("{stem}.json"));
    let gz = dir.join(format!("{stem}.json.gz"));
    let (path, bytes) = if plain.is_file() {
        let bytes = fs::read(&plain).map_err(|source| LoadError::Io {
            path: plain.clone(),
            source,
        })?;
        (plain, bytes)
    } else if gz.is_file() {
        let io = |source| LoadError::Io {
            path: gz.clone(),
            source,
        };
        let compressed = fs::read(&gz).map_err(io)?;
        let mut bytes = Vec::with_capacity(compressed.len() * 4);
        flate2::read::MultiGzDecoder::new(&compressed[..])
            .read_to_end(&mut bytes)
            .map_err(io)?;
        (gz, bytes)
    } else {
        return Err(LoadError::MissingFile {
            dir: dir.to_path_buf(),
            name: format!("{stem}.json"),
        });
    };
    match serde_json::from_slice(&bytes) {
        Ok(value) => Ok((path, value)),
        Err(source) => Err(LoadError::Json { path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use std::fs;

    #[test]
    fn missing_file_is_named() {
        let dir = valid_dir("missing");
        fs::remove_file(dir.join("pre_state.json")).unwrap();
        let msg = load_err(&dir);
        assert!(
            msg.contains("pre_state.json") && msg.contains("not found"),
            "{msg}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn malformed_json_is_named() {
        let dir = valid_dir("malformed");
        fs::write(dir.join("bytecodes.json"), b"{\"0x12\": ").unwrap();
        let msg = load_err(&dir);
        assert!(msg.contains("bytecodes.json: malformed JSON"), "{msg}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
