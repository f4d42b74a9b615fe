//! Value parsers for hex strings: quantities, data, addresses, hashes and blooms. Each
//! returns the reason on failure, for the caller to name the file and field.

use revm::primitives::alloy_primitives::Bloom;
use revm::primitives::{hex, Address, Bytes, B256, U256};
use serde_json::Value;

use super::fields::{describe, shorten};

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
pub(super) fn u256_value(value: &Value) -> Result<U256, String> {
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

pub(super) fn u64_value(value: &Value) -> Result<u64, String> {
    let n = u256_value(value)?;
    u64::try_from(n).map_err(|_| format!("quantity {n} does not fit in 64 bits"))
}

pub(super) fn u128_value(value: &Value) -> Result<u128, String> {
    let n = u256_value(value)?;
    u128::try_from(n).map_err(|_| format!("quantity {n} does not fit in 128 bits"))
}

pub(super) fn u8_value(value: &Value) -> Result<u8, String> {
    let n = u256_value(value)?;
    u8::try_from(n).map_err(|_| format!("quantity {n} does not fit in 8 bits"))
}

/// `0x`-prefixed hex data of even length.
pub(super) fn bytes_value(value: &Value) -> Result<Bytes, String> {
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

pub(super) fn address_value(value: &Value) -> Result<Address, String> {
    fixed_value::<20>(value).map(Address::from)
}

pub(super) fn b256_value(value: &Value) -> Result<B256, String> {
    fixed_value::<32>(value).map(B256::from)
}

pub(super) fn bloom_value(value: &Value) -> Result<Bloom, String> {
    fixed_value::<256>(value).map(Bloom::from)
}

/// An object key parsed like a JSON string value.
pub(super) fn key_value(key: &str) -> Value {
    Value::String(key.to_string())
}
