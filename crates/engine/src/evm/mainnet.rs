//! Loads real mainnet blocks from folders of JSON files (see `data/mainnet/README.md`).
//!
//! A block folder holds `block.json` (the `eth_getBlockByNumber(N, true)` object),
//! `pre_state.json`, `bytecodes.json` and `block_hashes.json`; each may instead be present
//! gzip-compressed as `<name>.json.gz`. An optional `spec.txt` names the hardfork to use
//! instead of the mainnet rule.
//!
//! Nothing here panics on bad input: every problem is a [`LoadError`] naming the file and
//! the field.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use revm::bytecode::Bytecode;
use revm::context::transaction::{AccessList, AccessListItem, Authorization, SignedAuthorization};
use revm::context::{BlockEnv, TxEnv};
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::context_interface::either::Either;
use revm::primitives::alloy_primitives::Bloom;
use revm::primitives::eip4844::{
    BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN, BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE,
};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{hex, keccak256, Address, Bytes, TxKind, B256, KECCAK_EMPTY, U256};
use revm::state::AccountInfo;
use serde_json::{Map, Value};

use super::block::{Block, HeaderFields};
use super::state::InMemoryState;

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
    #[error("{}: unknown hardfork name {name:?} (expected one of Frontier, Homestead, Tangerine, SpuriousDragon, Byzantium, Constantinople, Petersburg, Istanbul, Berlin, London, Paris/Merge, Shanghai, Cancun, Prague)", path.display())]
    UnknownSpec { path: PathBuf, name: String },
    /// The path is neither a block folder nor a folder of block folders.
    #[error("{}: no block folder here (no block.json or block.json.gz in it or in its subfolders)", path.display())]
    NoBlocks { path: PathBuf },
}

/// The JSON files of a block folder, without their `.json` / `.json.gz` extension.
const BLOCK_FILE: &str = "block";
const PRE_STATE_FILE: &str = "pre_state";
const BYTECODES_FILE: &str = "bytecodes";
const BLOCK_HASHES_FILE: &str = "block_hashes";
/// The optional hardfork override.
pub const SPEC_FILE: &str = "spec.txt";

/// The mainnet chain id, used when no transaction carries a `chainId`.
pub const MAINNET_CHAIN_ID: u64 = 1;

/// Whether `dir` is a block folder (holds `block.json` or `block.json.gz`).
pub fn is_block_dir(dir: &Path) -> bool {
    dir.join("block.json").is_file() || dir.join("block.json.gz").is_file()
}

/// The block folders at `path`: `path` itself if it is a block folder, else its
/// sub-folders that are block folders, sorted by numeric name (numeric names first, in
/// numeric order), then by name.
pub fn find_block_dirs(path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    if is_block_dir(path) {
        return Ok(vec![path.to_path_buf()]);
    }
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut dirs = Vec::new();
    for entry in fs::read_dir(path).map_err(io)? {
        let entry = entry.map_err(io)?;
        let sub = entry.path();
        if sub.is_dir() && is_block_dir(&sub) {
            dirs.push(sub);
        }
    }
    if dirs.is_empty() {
        return Err(LoadError::NoBlocks {
            path: path.to_path_buf(),
        });
    }
    dirs.sort_by_cached_key(|d| {
        let name = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let number = name.parse::<u64>().ok();
        (number.is_none(), number, name)
    });
    Ok(dirs)
}

/// The hardfork of a mainnet block by its number and timestamp.
pub fn mainnet_spec(number: u64, timestamp: u64) -> SpecId {
    if timestamp >= 1_746_612_311 {
        SpecId::PRAGUE
    } else if timestamp >= 1_710_338_135 {
        SpecId::CANCUN
    } else if timestamp >= 1_681_338_455 {
        SpecId::SHANGHAI
    } else if number >= 15_537_394 {
        SpecId::MERGE
    } else if number >= 12_965_000 {
        SpecId::LONDON
    } else if number >= 12_244_000 {
        SpecId::BERLIN
    } else if number >= 9_069_000 {
        SpecId::ISTANBUL
    } else if number >= 7_280_000 {
        SpecId::PETERSBURG
    } else if number >= 4_370_000 {
        SpecId::BYZANTIUM
    } else if number >= 2_675_000 {
        SpecId::SPURIOUS_DRAGON
    } else if number >= 2_463_000 {
        SpecId::TANGERINE
    } else if number >= 1_150_000 {
        SpecId::HOMESTEAD
    } else {
        SpecId::FRONTIER
    }
}

/// The `SpecId` for a hardfork name as written in `spec.txt` (case-insensitive; spaces,
/// `-` and `_` ignored), or `None` if unknown. `Constantinople` maps to `PETERSBURG` (revm
/// has no separate Constantinople spec), `Paris` and `Merge` to `MERGE`.
pub fn parse_spec_name(name: &str) -> Option<SpecId> {
    let key: String = name
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect();
    Some(match key.as_str() {
        "frontier" => SpecId::FRONTIER,
        "homestead" => SpecId::HOMESTEAD,
        "tangerine" | "tangerinewhistle" => SpecId::TANGERINE,
        "spuriousdragon" => SpecId::SPURIOUS_DRAGON,
        "byzantium" => SpecId::BYZANTIUM,
        // revm 43 has no separate Constantinople: on mainnet it activated together with
        // Petersburg (Constantinople without EIP-1283), which is what revm implements.
        "constantinople" => SpecId::PETERSBURG,
        "petersburg" => SpecId::PETERSBURG,
        "istanbul" => SpecId::ISTANBUL,
        "berlin" => SpecId::BERLIN,
        "london" => SpecId::LONDON,
        "paris" | "merge" => SpecId::MERGE,
        "shanghai" => SpecId::SHANGHAI,
        "cancun" => SpecId::CANCUN,
        "prague" => SpecId::PRAGUE,
        _ => return None,
    })
}

/// Loads a block folder: the block (env, spec, chain id, transactions, header fields) and
/// the pre-block state it reads.
pub fn load_block_dir(dir: &Path) -> Result<(Block, InMemoryState), LoadError> {
    let (block_path, block_json) = read_json(dir, BLOCK_FILE)?;
    let spec_override = read_spec_override(dir)?;
    let block = parse_block(&block_path, &block_json, spec_override)?;
    drop(block_json);

    let mut state = InMemoryState::default();
    let (path, json) = read_json(dir, BYTECODES_FILE)?;
    parse_bytecodes(&path, &json, &mut state)?;
    drop(json);
    let (path, json) = read_json(dir, PRE_STATE_FILE)?;
    parse_pre_state(&path, &json, &mut state)?;
    drop(json);
    let (path, json) = read_json(dir, BLOCK_HASHES_FILE)?;
    parse_block_hashes(&path, &json, &mut state)?;
    Ok((block, state))
}

/// Reads `<dir>/<stem>.json`, or else `<dir>/<stem>.json.gz`.
fn read_json(dir: &Path, stem: &str) -> Result<(PathBuf, Value), LoadError> {
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

/// Reads the optional `spec.txt` of a block folder.
fn read_spec_override(dir: &Path) -> Result<Option<SpecId>, LoadError> {
    let path = dir.join(SPEC_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let text = fs::read_to_string(&path).map_err(|source| LoadError::Io {
        path: path.clone(),
        source,
    })?;
    let name = text.trim();
    match parse_spec_name(name) {
        Some(spec) => Ok(Some(spec)),
        None => Err(LoadError::UnknownSpec {
            path,
            name: name.to_string(),
        }),
    }
}

// ---------------------------------------------------------------------------------------
// Field access with error paths.

/// A JSON object being read, with the file and the field path that lead to it.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: &'a Path,
    prefix: String,
}

impl<'a> Obj<'a> {
    /// `value` as an object, or an error for `field`.
    fn new(value: &'a Value, path: &'a Path, prefix: String) -> Result<Self, LoadError> {
        match value {
            Value::Object(map) => Ok(Obj { map, path, prefix }),
            other => Err(field_err(
                path,
                if prefix.is_empty() {
                    "(top level)"
                } else {
                    &prefix
                },
                format!("expected an object, got {}", describe(other)),
            )),
        }
    }

    fn field(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    fn err(&self, key: &str, reason: impl Into<String>) -> LoadError {
        field_err(self.path, &self.field(key), reason)
    }

    /// The value of `key`; absent and `null` are both `None`.
    fn opt_value(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn value(&self, key: &str) -> Result<&'a Value, LoadError> {
        self.opt_value(key).ok_or_else(|| self.err(key, "missing"))
    }

    fn opt<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Result<Option<T>, LoadError> {
        match self.opt_value(key) {
            None => Ok(None),
            Some(v) => parse(v).map(Some).map_err(|reason| self.err(key, reason)),
        }
    }

    fn req<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Result<T, LoadError> {
        parse(self.value(key)?).map_err(|reason| self.err(key, reason))
    }

    /// The array under `key` (absent or `null` is empty when `required` is false).
    fn array(&self, key: &str, required: bool) -> Result<&'a [Value], LoadError> {
        match self.opt_value(key) {
            None if required => Err(self.err(key, "missing")),
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => {
                Err(self.err(key, format!("expected an array, got {}", describe(other))))
            }
        }
    }
}

fn field_err(path: &Path, field: &str, reason: impl Into<String>) -> LoadError {
    LoadError::Field {
        path: path.to_path_buf(),
        field: field.to_string(),
        reason: reason.into(),
    }
}

/// A short description of a JSON value for error messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{:?}", shorten(s)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// `s`, cut to a readable length.
fn shorten(s: &str) -> String {
    const MAX: usize = 80;
    if s.len() <= MAX {
        s.to_string()
    } else {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...({} chars)", &s[..end], s.len())
    }
}

// ---------------------------------------------------------------------------------------
// Value parsers: each returns the reason on failure.

fn as_str(value: &Value) -> Result<&str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("expected a hex string, got {}", describe(value)))
}

/// The digits of a `0x`-prefixed string.
fn hex_digits<'s>(s: &'s str, what: &str) -> Result<&'s str, String> {
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .ok_or_else(|| format!("invalid {what} {:?}: missing 0x prefix", shorten(s)))?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("invalid {what} {:?}", shorten(s)));
    }
    Ok(digits)
}

/// A hex quantity (`"0x1a"`, leading zeros allowed) or a non-negative JSON integer.
fn u256_value(value: &Value) -> Result<U256, String> {
    if let Value::Number(n) = value {
        return n
            .as_u64()
            .map(U256::from)
            .ok_or_else(|| format!("expected a non-negative integer, got {n}"));
    }
    let s = as_str(value)?;
    let digits = hex_digits(s, "hex quantity")?;
    if digits.is_empty() {
        return Err(format!("invalid hex quantity {:?}: no digits", shorten(s)));
    }
    U256::from_str_radix(digits, 16)
        .map_err(|_| format!("hex quantity {:?} does not fit in 256 bits", shorten(s)))
}

fn u64_value(value: &Value) -> Result<u64, String> {
    let n = u256_value(value)?;
    u64::try_from(n).map_err(|_| format!("quantity {n} does not fit in 64 bits"))
}

fn u128_value(value: &Value) -> Result<u128, String> {
    let n = u256_value(value)?;
    u128::try_from(n).map_err(|_| format!("quantity {n} does not fit in 128 bits"))
}

fn u8_value(value: &Value) -> Result<u8, String> {
    let n = u256_value(value)?;
    u8::try_from(n).map_err(|_| format!("quantity {n} does not fit in 8 bits"))
}

/// `0x`-prefixed hex data of even length.
fn bytes_value(value: &Value) -> Result<Bytes, String> {
    let s = as_str(value)?;
    let digits = hex_digits(s, "hex data")?;
    if digits.len() % 2 != 0 {
        return Err(format!("invalid hex data {:?}: odd length", shorten(s)));
    }
    hex::decode(digits)
        .map(Bytes::from)
        .map_err(|_| format!("invalid hex data {:?}", shorten(s)))
}

/// Exactly `N` bytes of hex data.
fn fixed_value<const N: usize>(value: &Value) -> Result<[u8; N], String> {
    let bytes = bytes_value(value)?;
    <[u8; N]>::try_from(&bytes[..]).map_err(|_| {
        format!(
            "expected {N} bytes, got {} in {}",
            bytes.len(),
            describe(value)
        )
    })
}

fn address_value(value: &Value) -> Result<Address, String> {
    fixed_value::<20>(value).map(Address::from)
}

fn b256_value(value: &Value) -> Result<B256, String> {
    fixed_value::<32>(value).map(B256::from)
}

fn bloom_value(value: &Value) -> Result<Bloom, String> {
    fixed_value::<256>(value).map(Bloom::from)
}

/// An object key parsed like a JSON string value.
fn key_value(key: &str) -> Value {
    Value::String(key.to_string())
}

// ---------------------------------------------------------------------------------------
// block.json

fn parse_block(
    path: &Path,
    json: &Value,
    spec_override: Option<SpecId>,
) -> Result<Block, LoadError> {
    let obj = Obj::new(json, path, String::new())?;
    let number = obj.req("number", u64_value)?;
    let timestamp = obj.req("timestamp", u64_value)?;
    let spec = spec_override.unwrap_or_else(|| mainnet_spec(number, timestamp));

    let blob_excess_gas_and_price = match obj.opt("excessBlobGas", u64_value)? {
        Some(excess) => Some(blob_excess_gas_and_price(excess, spec).ok_or_else(|| {
            obj.err(
                "excessBlobGas",
                format!("blob gas price for excess blob gas {excess} overflows"),
            )
        })?),
        // revm requires a blob gas price from Cancun on.
        None if spec.is_enabled_in(SpecId::CANCUN) => blob_excess_gas_and_price(0, spec),
        None => None,
    };
    let env = BlockEnv {
        number: U256::from(number),
        beneficiary: obj.req("miner", address_value)?,
        timestamp: U256::from(timestamp),
        gas_limit: obj.req("gasLimit", u64_value)?,
        basefee: obj.opt("baseFeePerGas", u64_value)?.unwrap_or(0),
        difficulty: obj.req("difficulty", u256_value)?,
        prevrandao: obj.opt("mixHash", b256_value)?,
        blob_excess_gas_and_price,
        ..BlockEnv::default()
    };

    let header = HeaderFields {
        gas_used: obj.req("gasUsed", u64_value)?,
        logs_bloom: obj.req("logsBloom", bloom_value)?,
        receipts_root: obj.req("receiptsRoot", b256_value)?,
    };

    let mut chain_id: Option<u64> = None;
    let tx_values = obj.array("transactions", true)?;
    let mut txs = Vec::with_capacity(tx_values.len());
    for (i, value) in tx_values.iter().enumerate() {
        let tx = Obj::new(value, path, format!("transactions[{i}]"))?;
        if let Some(id) = tx.opt("chainId", u64_value)? {
            match chain_id {
                None => chain_id = Some(id),
                Some(first) if first != id => {
                    return Err(tx.err(
                        "chainId",
                        format!(
                            "chain id {id} differs from chain id {first} of an earlier transaction"
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        txs.push(parse_tx(&tx)?);
    }

    Ok(Block {
        label: number.to_string(),
        env,
        spec,
        chain_id: chain_id.unwrap_or(MAINNET_CHAIN_ID),
        txs,
        header: Some(header),
    })
}

/// The blob gas price for an excess blob gas, with the update fraction of the spec
/// (Cancun's 3338477 before Prague), or `None` if the price does not fit in 128 bits
/// (revm's computation would overflow).
pub fn blob_excess_gas_and_price(
    excess_blob_gas: u64,
    spec: SpecId,
) -> Option<BlobExcessGasAndPrice> {
    let fraction = if spec.is_enabled_in(SpecId::PRAGUE) {
        BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE
    } else {
        BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN
    };
    blob_price_fits(excess_blob_gas, fraction)
        .then(|| BlobExcessGasAndPrice::new(excess_blob_gas, fraction))
}

/// Whether revm's `fake_exponential(MIN_BLOB_GASPRICE = 1, excess, fraction)` runs without
/// overflow: the same loop with checked arithmetic.
fn blob_price_fits(excess_blob_gas: u64, fraction: u64) -> bool {
    let (numerator, denominator) = (u128::from(excess_blob_gas), u128::from(fraction));
    let mut i: u128 = 1;
    let mut output: u128 = 0;
    let mut accum = denominator;
    while accum > 0 {
        let Some(sum) = output.checked_add(accum) else {
            return false;
        };
        output = sum;
        let (Some(num), Some(den)) = (accum.checked_mul(numerator), denominator.checked_mul(i))
        else {
            return false;
        };
        accum = num / den;
        i += 1;
    }
    true
}

fn parse_tx(tx: &Obj<'_>) -> Result<TxEnv, LoadError> {
    let tx_type = tx.opt("type", u8_value)?.unwrap_or(0);
    if tx_type > 4 {
        return Err(tx.err("type", format!("unsupported transaction type {tx_type}")));
    }
    let (gas_price, gas_priority_fee) = if tx_type < 2 {
        (tx.req("gasPrice", u128_value)?, None)
    } else {
        (
            tx.req("maxFeePerGas", u128_value)?,
            Some(tx.req("maxPriorityFeePerGas", u128_value)?),
        )
    };
    let kind = match tx.opt("to", address_value)? {
        Some(to) => TxKind::Call(to),
        None => TxKind::Create,
    };
    let chain_id = if tx_type == 0 {
        // EIP-155: v = chain_id * 2 + 35 or + 36; 27 / 28 before it.
        let v = tx.req("v", u64_value)?;
        (v >= 35).then(|| (v - 35) / 2)
    } else {
        Some(tx.req("chainId", u64_value)?)
    };
    let access_list = if tx_type >= 1 {
        parse_access_list(tx)?
    } else {
        AccessList::default()
    };
    let (blob_hashes, max_fee_per_blob_gas) = if tx_type == 3 {
        let mut hashes = Vec::new();
        for (j, h) in tx.array("blobVersionedHashes", true)?.iter().enumerate() {
            hashes.push(
                b256_value(h)
                    .map_err(|reason| tx.err(&format!("blobVersionedHashes[{j}]"), reason))?,
            );
        }
        (hashes, tx.req("maxFeePerBlobGas", u128_value)?)
    } else {
        (Vec::new(), 0)
    };
    let authorization_list = if tx_type == 4 {
        parse_authorization_list(tx)?
    } else {
        Vec::new()
    };
    Ok(TxEnv {
        tx_type,
        caller: tx.req("from", address_value)?,
        gas_limit: tx.req("gas", u64_value)?,
        gas_price,
        kind,
        value: tx.req("value", u256_value)?,
        data: tx.req("input", bytes_value)?,
        nonce: tx.req("nonce", u64_value)?,
        chain_id,
        access_list,
        gas_priority_fee,
        blob_hashes,
        max_fee_per_blob_gas,
        authorization_list,
    })
}

fn parse_access_list(tx: &Obj<'_>) -> Result<AccessList, LoadError> {
    let mut items = Vec::new();
    for (j, value) in tx.array("accessList", false)?.iter().enumerate() {
        let item = Obj::new(value, tx.path, tx.field(&format!("accessList[{j}]")))?;
        let mut storage_keys = Vec::new();
        for (k, key) in item.array("storageKeys", false)?.iter().enumerate() {
            storage_keys.push(
                b256_value(key).map_err(|reason| item.err(&format!("storageKeys[{k}]"), reason))?,
            );
        }
        items.push(AccessListItem {
            address: item.req("address", address_value)?,
            storage_keys,
        });
    }
    Ok(AccessList(items))
}

type AuthorizationList =
    Vec<Either<SignedAuthorization, revm::context::transaction::RecoveredAuthorization>>;

fn parse_authorization_list(tx: &Obj<'_>) -> Result<AuthorizationList, LoadError> {
    let mut list = Vec::new();
    for (j, value) in tx.array("authorizationList", true)?.iter().enumerate() {
        let item = Obj::new(value, tx.path, tx.field(&format!("authorizationList[{j}]")))?;
        let inner = Authorization {
            chain_id: item.req("chainId", u256_value)?,
            address: item.req("address", address_value)?,
            nonce: item.req("nonce", u64_value)?,
        };
        let y_parity = match item.opt("yParity", u8_value)? {
            Some(y) => y,
            None => item.req("v", u8_value)?,
        };
        list.push(Either::Left(SignedAuthorization::new_unchecked(
            inner,
            y_parity,
            item.req("r", u256_value)?,
            item.req("s", u256_value)?,
        )));
    }
    Ok(list)
}

// ---------------------------------------------------------------------------------------
// bytecodes.json, pre_state.json, block_hashes.json

fn parse_bytecodes(path: &Path, json: &Value, state: &mut InMemoryState) -> Result<(), LoadError> {
    let obj = Obj::new(json, path, String::new())?;
    for (key, value) in obj.map {
        let hash = b256_value(&key_value(key)).map_err(|reason| obj.err(key, reason))?;
        let code = bytes_value(value).map_err(|reason| obj.err(key, reason))?;
        let actual = keccak256(&code);
        if actual != hash {
            return Err(obj.err(
                key,
                format!("keccak256 of the code is {actual}, not the key"),
            ));
        }
        state.bytecodes.insert(hash, bytecode(code));
    }
    Ok(())
}

/// Raw runtime code as revm bytecode: EIP-7702 delegations are recognised; anything else
/// (including pre-London code that merely starts with 0xEF01) is legacy code.
fn bytecode(code: Bytes) -> Bytecode {
    match Bytecode::new_raw_checked(code.clone()) {
        Ok(bytecode) => bytecode,
        Err(_) => Bytecode::new_legacy(code),
    }
}

fn parse_pre_state(path: &Path, json: &Value, state: &mut InMemoryState) -> Result<(), LoadError> {
    let obj = Obj::new(json, path, String::new())?;
    state.accounts.reserve(obj.map.len());
    for (key, value) in obj.map {
        let address = address_value(&key_value(key)).map_err(|reason| obj.err(key, reason))?;
        let account = Obj::new(value, path, key.clone())?;
        let balance = account.req("balance", u256_value)?;
        let nonce = account.req("nonce", u64_value)?;
        let code_hash = account
            .opt("code_hash", b256_value)?
            .unwrap_or(KECCAK_EMPTY);
        let code = if code_hash == KECCAK_EMPTY {
            Bytecode::default()
        } else {
            state.bytecodes.get(&code_hash).cloned().ok_or_else(|| {
                account.err(
                    "code_hash",
                    format!("no code with hash {code_hash} in bytecodes.json"),
                )
            })?
        };
        if let Some(storage) = account.opt_value("storage") {
            let storage = Obj::new(storage, path, account.field("storage"))?;
            let slots = state.storage.entry(address).or_default();
            slots.reserve(storage.map.len());
            for (slot_key, slot_value) in storage.map {
                let slot = u256_value(&key_value(slot_key))
                    .map_err(|reason| storage.err(slot_key, reason))?;
                let value =
                    u256_value(slot_value).map_err(|reason| storage.err(slot_key, reason))?;
                slots.insert(slot, value);
            }
        }
        state
            .accounts
            .insert(address, AccountInfo::new(balance, nonce, code_hash, code));
    }
    Ok(())
}

fn parse_block_hashes(
    path: &Path,
    json: &Value,
    state: &mut InMemoryState,
) -> Result<(), LoadError> {
    let obj = Obj::new(json, path, String::new())?;
    for (key, value) in obj.map {
        let number = match key.parse::<u64>() {
            Ok(n) => n,
            Err(_) => u64_value(&key_value(key))
                .map_err(|_| obj.err(key, format!("invalid block number {:?}", shorten(key))))?,
        };
        let hash = b256_value(value).map_err(|reason| obj.err(key, reason))?;
        state.block_hashes.insert(number, hash);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh, empty temp folder for one test.
    fn temp_dir(name: &str) -> PathBuf {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "stmlab-mainnet-test-{}-{}-{name}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    const CODE: &str = "0x6001600055";

    fn block_json() -> Value {
        serde_json::json!({
            "number": "0x112a880",
            "timestamp": "0x65f1b057",
            "miner": "0x95222290dd7278aa3ddd389cc1e1d165cc4bafe5",
            "gasLimit": "0x1c9c380",
            "gasUsed": "0x5208",
            "baseFeePerGas": "0x7",
            "difficulty": "0x0",
            "mixHash": "0x1111111111111111111111111111111111111111111111111111111111111111",
            "excessBlobGas": "0x80000",
            "logsBloom": format!("0x{}", "00".repeat(256)),
            "receiptsRoot": "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
            "transactions": [
                {
                    "type": "0x0", "from": "0x00000000000000000000000000000000000000aa",
                    "to": "0x00000000000000000000000000000000000000bb", "gas": "0x5208",
                    "gasPrice": "0x10", "value": "0x1", "input": "0x", "nonce": "0x0",
                    "v": "0x25", "chainId": "0x1"
                },
                {
                    "type": "0x2", "from": "0x00000000000000000000000000000000000000aa",
                    "to": null, "gas": "0x10000", "maxFeePerGas": "0x20",
                    "maxPriorityFeePerGas": "0x2", "gasPrice": "0x9", "value": "0x0",
                    "input": "0x6000", "nonce": "0x1", "chainId": "0x1", "v": "0x1",
                    "accessList": [{"address": "0x00000000000000000000000000000000000000cc",
                                    "storageKeys": ["0x0000000000000000000000000000000000000000000000000000000000000001"]}]
                },
                {
                    "type": "0x3", "from": "0x00000000000000000000000000000000000000aa",
                    "to": "0x00000000000000000000000000000000000000bb", "gas": "0x5208",
                    "maxFeePerGas": "0x20", "maxPriorityFeePerGas": "0x2",
                    "maxFeePerBlobGas": "0x3", "value": "0x0", "input": "0x", "nonce": "0x2",
                    "chainId": "0x1", "accessList": [],
                    "blobVersionedHashes": ["0x0100000000000000000000000000000000000000000000000000000000000001"]
                }
            ]
        })
    }

    fn pre_state_json() -> Value {
        serde_json::json!({
            "0x00000000000000000000000000000000000000aa": {"balance": "0xde0b6b3a7640000", "nonce": 0, "storage": {}},
            "0x00000000000000000000000000000000000000bb": {
                "balance": "0x0", "nonce": 1,
                "code_hash": keccak256(hex::decode(&CODE[2..]).unwrap()).to_string(),
                "storage": {"0x0": "0x2a", "0x0000000000000000000000000000000000000000000000000000000000000005": "0x1"}
            }
        })
    }

    fn bytecodes_json() -> Value {
        let hash = keccak256(hex::decode(&CODE[2..]).unwrap()).to_string();
        serde_json::json!({ hash: CODE })
    }

    fn write(dir: &Path, name: &str, value: &Value) {
        fs::write(dir.join(name), serde_json::to_vec(value).unwrap()).unwrap();
    }

    fn write_gz(dir: &Path, name: &str, value: &Value) {
        use std::io::Write;
        let file = fs::File::create(dir.join(name)).unwrap();
        let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        enc.write_all(&serde_json::to_vec(value).unwrap()).unwrap();
        enc.finish().unwrap();
    }

    /// A complete, valid block folder (block.json compressed, the rest plain).
    fn valid_dir(name: &str) -> PathBuf {
        let dir = temp_dir(name);
        write_gz(&dir, "block.json.gz", &block_json());
        write(&dir, "pre_state.json", &pre_state_json());
        write(&dir, "bytecodes.json", &bytecodes_json());
        write(
            &dir,
            "block_hashes.json",
            &serde_json::json!({"19000000": format!("0x{}", "ab".repeat(32))}),
        );
        dir
    }

    fn load_err(dir: &Path) -> String {
        match load_block_dir(dir) {
            Ok(_) => panic!("{} loaded, expected an error", dir.display()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn loads_a_valid_folder() {
        let dir = valid_dir("valid");
        let (block, state) = load_block_dir(&dir).unwrap();
        assert_eq!(block.label, "18000000");
        assert_eq!(block.spec, SpecId::CANCUN);
        assert_eq!(block.chain_id, 1);
        assert_eq!(block.env.basefee, 7);
        assert_eq!(block.env.gas_limit, 30_000_000);
        let blob = block.env.blob_excess_gas_and_price.unwrap();
        assert_eq!(blob.excess_blob_gas, 0x80000);
        assert_eq!(
            blob.blob_gasprice,
            BlobExcessGasAndPrice::new(0x80000, 3_338_477).blob_gasprice
        );
        assert_eq!(block.header.as_ref().unwrap().gas_used, 21_000);
        assert_eq!(block.txs.len(), 3);
        let t0 = &block.txs[0];
        assert_eq!((t0.tx_type, t0.chain_id, t0.gas_price), (0, Some(1), 16));
        assert_eq!(t0.gas_priority_fee, None);
        let t1 = &block.txs[1];
        assert_eq!(
            (t1.tx_type, t1.gas_price, t1.gas_priority_fee),
            (2, 32, Some(2))
        );
        assert_eq!(t1.kind, TxKind::Create);
        assert_eq!(t1.access_list.0.len(), 1);
        assert_eq!(t1.data, Bytes::from(vec![0x60, 0x00]));
        let t2 = &block.txs[2];
        assert_eq!(
            (t2.tx_type, t2.max_fee_per_blob_gas, t2.blob_hashes.len()),
            (3, 3, 1)
        );

        let bb: Address = "0x00000000000000000000000000000000000000bb"
            .parse()
            .unwrap();
        let info = &state.accounts[&bb];
        assert_eq!(info.nonce, 1);
        assert_eq!(
            info.code.as_ref().unwrap().original_bytes(),
            bytes_value(&Value::String(CODE.into())).unwrap()
        );
        assert_eq!(state.storage[&bb][&U256::ZERO], U256::from(42));
        assert_eq!(state.storage[&bb][&U256::from(5)], U256::from(1));
        assert_eq!(state.block_hashes[&19_000_000], B256::repeat_byte(0xab));
        fs::remove_dir_all(&dir).unwrap();
    }

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

    #[test]
    fn invalid_hex_field_is_named() {
        let dir = valid_dir("badhex");
        let mut block = block_json();
        block["transactions"][1]["gas"] = Value::String("0xzz".into());
        fs::remove_file(dir.join("block.json.gz")).unwrap();
        write(&dir, "block.json", &block);
        let msg = load_err(&dir);
        assert!(
            msg.ends_with("block.json: transactions[1].gas: invalid hex quantity \"0xzz\""),
            "{msg}"
        );

        let mut block = block_json();
        block["miner"] = Value::String("0x1234".into());
        write(&dir, "block.json", &block);
        let msg = load_err(&dir);
        assert!(
            msg.contains("block.json: miner: expected 20 bytes"),
            "{msg}"
        );

        let mut block = block_json();
        block.as_object_mut().unwrap().remove("gasUsed");
        write(&dir, "block.json", &block);
        let msg = load_err(&dir);
        assert!(msg.ends_with("block.json: gasUsed: missing"), "{msg}");

        let mut pre = pre_state_json();
        pre["0x00000000000000000000000000000000000000aa"]["balance"] = Value::from(-1);
        write(&dir, "pre_state.json", &pre);
        write(&dir, "block.json", &block_json());
        let msg = load_err(&dir);
        assert!(
            msg.contains("pre_state.json: 0x00000000000000000000000000000000000000aa.balance"),
            "{msg}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn disagreeing_chain_ids_are_an_error() {
        let dir = valid_dir("chainid");
        let mut block = block_json();
        block["transactions"][2]["chainId"] = Value::String("0x5".into());
        fs::remove_file(dir.join("block.json.gz")).unwrap();
        write(&dir, "block.json", &block);
        let msg = load_err(&dir);
        assert!(
            msg.contains("transactions[2].chainId: chain id 5 differs"),
            "{msg}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn spec_txt_overrides_the_mainnet_rule() {
        let dir = valid_dir("spec");
        fs::write(dir.join("spec.txt"), "  shanghai \n").unwrap();
        assert_eq!(load_block_dir(&dir).unwrap().0.spec, SpecId::SHANGHAI);
        fs::write(dir.join("spec.txt"), "Merge").unwrap();
        assert_eq!(load_block_dir(&dir).unwrap().0.spec, SpecId::MERGE);
        fs::write(dir.join("spec.txt"), "SpuriousDragon\n").unwrap();
        assert_eq!(
            load_block_dir(&dir).unwrap().0.spec,
            SpecId::SPURIOUS_DRAGON
        );
        fs::write(dir.join("spec.txt"), "Dencun\n").unwrap();
        let msg = load_err(&dir);
        assert!(
            msg.contains("spec.txt: unknown hardfork name \"Dencun\""),
            "{msg}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn huge_excess_blob_gas_is_an_error() {
        assert!(blob_excess_gas_and_price(0x80000, SpecId::CANCUN).is_some());
        assert!(blob_excess_gas_and_price(100_000_000, SpecId::CANCUN).is_some());
        assert!(blob_excess_gas_and_price(u64::MAX, SpecId::CANCUN).is_none());
        let dir = valid_dir("blobgas");
        let mut block = block_json();
        block["excessBlobGas"] = Value::String("0xffffffffffffffff".into());
        fs::remove_file(dir.join("block.json.gz")).unwrap();
        write(&dir, "block.json", &block);
        let msg = load_err(&dir);
        assert!(
            msg.contains("block.json: excessBlobGas: blob gas price"),
            "{msg}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn spec_names() {
        for (name, spec) in [
            ("Frontier", SpecId::FRONTIER),
            ("HOMESTEAD", SpecId::HOMESTEAD),
            ("Tangerine", SpecId::TANGERINE),
            ("spuriousdragon", SpecId::SPURIOUS_DRAGON),
            ("Byzantium", SpecId::BYZANTIUM),
            ("Constantinople", SpecId::PETERSBURG),
            ("Petersburg", SpecId::PETERSBURG),
            ("Istanbul", SpecId::ISTANBUL),
            ("Berlin", SpecId::BERLIN),
            ("London", SpecId::LONDON),
            ("Paris", SpecId::MERGE),
            ("merge", SpecId::MERGE),
            ("Shanghai", SpecId::SHANGHAI),
            ("Cancun", SpecId::CANCUN),
            ("Prague", SpecId::PRAGUE),
        ] {
            assert_eq!(parse_spec_name(name), Some(spec), "{name}");
        }
        assert_eq!(parse_spec_name(""), None);
        assert_eq!(parse_spec_name("Osaka2"), None);
    }

    #[test]
    fn mainnet_spec_rule() {
        assert_eq!(mainnet_spec(46_147, 0x55c42659), SpecId::FRONTIER);
        assert_eq!(mainnet_spec(2_462_997, 0), SpecId::HOMESTEAD);
        assert_eq!(mainnet_spec(4_370_000, 0), SpecId::BYZANTIUM);
        assert_eq!(mainnet_spec(7_280_000, 0), SpecId::PETERSBURG);
        assert_eq!(mainnet_spec(15_537_393, 1_663_224_162), SpecId::LONDON);
        assert_eq!(mainnet_spec(15_537_394, 1_663_224_179), SpecId::MERGE);
        assert_eq!(mainnet_spec(17_666_333, 1_688_549_363), SpecId::SHANGHAI);
        assert_eq!(mainnet_spec(19_929_064, 1_716_424_835), SpecId::CANCUN);
    }

    /// Every bundled mainnet block loads, with its header fields.
    #[test]
    fn bundled_mainnet_blocks_load() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mainnet");
        let dirs = find_block_dirs(&root).unwrap();
        assert_eq!(dirs.len(), 32);
        let mut txs = 0;
        let mut specs = Vec::new();
        for dir in &dirs {
            let (block, state) =
                load_block_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            assert_eq!(block.label, dir.file_name().unwrap().to_string_lossy());
            assert_eq!(block.chain_id, 1);
            assert!(block.header.is_some());
            assert!(
                block.is_empty() || !state.accounts.is_empty(),
                "{}",
                block.label
            );
            txs += block.len();
            specs.push(block.spec);
        }
        assert_eq!(txs, 7814);
        assert_eq!(specs.first(), Some(&SpecId::FRONTIER));
        assert_eq!(specs.last(), Some(&SpecId::CANCUN));
        assert!(specs.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn find_block_dirs_sorts_numerically() {
        let root = temp_dir("find");
        for name in ["100", "20", "abc", "3"] {
            let d = root.join(name);
            fs::create_dir_all(&d).unwrap();
            fs::write(
                d.join(if name == "20" {
                    "block.json.gz"
                } else {
                    "block.json"
                }),
                b"{}",
            )
            .unwrap();
        }
        fs::create_dir_all(root.join("empty")).unwrap();
        let names: Vec<_> = find_block_dirs(&root)
            .unwrap()
            .iter()
            .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["3", "20", "100", "abc"]);
        assert_eq!(
            find_block_dirs(&root.join("3")).unwrap(),
            vec![root.join("3")]
        );
        assert!(matches!(
            find_block_dirs(&root.join("empty")),
            Err(LoadError::NoBlocks { .. })
        ));
        assert!(matches!(
            find_block_dirs(&root.join("nonexistent")),
            Err(LoadError::Io { .. })
        ));
        fs::remove_dir_all(&root).unwrap();
    }
}
