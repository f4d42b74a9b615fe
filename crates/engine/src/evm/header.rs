//! Checks a block's execution against its real header: gasUsed, logsBloom, (from
//! Byzantium on) receiptsRoot, the root of the receipts converted to alloy's
//! (`convert::alloy_receipts`) and encoded by alloy, and (where the header has one)
//! requestsHash, the EIP-7685 hash of the block's requests. A block whose uncle rewards
//! could not be computed says so (`HeaderCheck::MatchRewardsIncomplete`).

use std::fmt;

use alloy_consensus::proofs::calculate_receipt_root;
use alloy_consensus::ReceiptEnvelope;
use revm::primitives::alloy_primitives::Bloom;
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Log, B256};

use super::block::Block;
use super::convert::alloy_receipts;
use super::output::{BlockOutput, Receipt};

/// The result of comparing a block's execution with its header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderCheck {
    /// The block came without a header (`Block::header` is `None`): nothing was checked.
    NoHeader,
    /// Every checked field matches.
    Match,
    /// Every checked field matches, but the block's state changes lack the rewards of
    /// this many uncles' miners (their headers were not given): the fields checked here
    /// do not depend on them, a state root would.
    MatchRewardsIncomplete { uncles: usize },
    /// These fields differ (in the order gasUsed, logsBloom, receiptsRoot).
    Mismatch(Vec<HeaderMismatch>),
}

/// One header field that differs from what the execution produced.
// The bloom variant is large, but mismatches are rare and few.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderMismatch {
    GasUsed {
        expected: u64,
        got: u64,
    },
    LogsBloom {
        expected: Bloom,
        got: Bloom,
    },
    ReceiptsRoot {
        expected: B256,
        got: B256,
    },
    /// `got`: `None` when the execution produced no requests (before Prague).
    RequestsHash {
        expected: B256,
        got: Option<B256>,
    },
    /// The receipts have no encoding, so no root (a transaction type alloy does not know).
    Unencodable {
        reason: String,
    },
}

impl HeaderCheck {
    /// The block had a header and every checked field matches (the uncle rewards may
    /// still be incomplete: [`HeaderCheck::rewards_incomplete`]).
    pub fn is_match(&self) -> bool {
        matches!(
            self,
            HeaderCheck::Match | HeaderCheck::MatchRewardsIncomplete { .. }
        )
    }

    /// The fields match but the state changes lack some uncle miners' rewards.
    pub fn rewards_incomplete(&self) -> bool {
        matches!(self, HeaderCheck::MatchRewardsIncomplete { .. })
    }

    /// The block had a header and some field differs.
    pub fn is_mismatch(&self) -> bool {
        matches!(self, HeaderCheck::Mismatch(_))
    }
}

impl HeaderMismatch {
    /// The header field's JSON-RPC name.
    pub fn field(&self) -> &'static str {
        match self {
            HeaderMismatch::GasUsed { .. } => "gasUsed",
            HeaderMismatch::LogsBloom { .. } => "logsBloom",
            HeaderMismatch::ReceiptsRoot { .. } | HeaderMismatch::Unencodable { .. } => {
                "receiptsRoot"
            }
            HeaderMismatch::RequestsHash { .. } => "requestsHash",
        }
    }
}

impl fmt::Display for HeaderMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderMismatch::GasUsed { expected, got } => {
                write!(f, "gasUsed: expected {expected}, got {got}")
            }
            HeaderMismatch::LogsBloom { expected, got } => {
                write!(f, "logsBloom: expected {expected}, got {got}")
            }
            HeaderMismatch::ReceiptsRoot { expected, got } => {
                write!(f, "receiptsRoot: expected {expected}, got {got}")
            }
            HeaderMismatch::Unencodable { reason } => write!(f, "receiptsRoot: {reason}"),
            HeaderMismatch::RequestsHash {
                expected,
                got: Some(got),
            } => write!(f, "requestsHash: expected {expected}, got {got}"),
            HeaderMismatch::RequestsHash {
                expected,
                got: None,
            } => write!(f, "requestsHash: expected {expected}, got no requests"),
        }
    }
}

impl fmt::Display for HeaderCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderCheck::NoHeader => f.write_str("no header"),
            HeaderCheck::Match => f.write_str("header matches"),
            HeaderCheck::MatchRewardsIncomplete { uncles } => write!(
                f,
                "header matches; rewards incomplete: no uncles.json for {uncles} uncle(s)"
            ),
            HeaderCheck::Mismatch(fields) => {
                f.write_str("header mismatch: ")?;
                for (i, m) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{m}")?;
                }
                Ok(())
            }
        }
    }
}

/// Compares a block's output with the block's header. Rejected transactions (`Err`) are
/// not part of the block's receipts and are skipped. receiptsRoot is checked from
/// Byzantium on (before, receipts carry an intermediate state root that the execution
/// does not produce); requestsHash where the header has one.
pub fn check_header(block: &Block, output: &BlockOutput) -> HeaderCheck {
    let txs = &output.txs[..];
    let Some(header) = &block.header else {
        return HeaderCheck::NoHeader;
    };
    let receipts: Vec<&Receipt> = txs.iter().filter_map(|t| t.as_ref().ok()).collect();
    let mut mismatches = Vec::new();

    let gas_used = receipts.last().map_or(0, |r| r.cumulative_gas_used);
    if gas_used != header.gas_used {
        mismatches.push(HeaderMismatch::GasUsed {
            expected: header.gas_used,
            got: gas_used,
        });
    }

    let bloom = block_bloom(receipts.iter().copied());
    if bloom != header.logs_bloom {
        mismatches.push(HeaderMismatch::LogsBloom {
            expected: header.logs_bloom,
            got: bloom,
        });
    }

    if block.spec.is_enabled_in(SpecId::BYZANTIUM) {
        match alloy_receipts(block, txs) {
            Ok(converted) => {
                let root = receipts_root(&converted);
                if root != header.receipts_root {
                    mismatches.push(HeaderMismatch::ReceiptsRoot {
                        expected: header.receipts_root,
                        got: root,
                    });
                }
            }
            Err(error) => mismatches.push(HeaderMismatch::Unencodable {
                reason: error.to_string(),
            }),
        }
    }

    if let Some(expected) = header.requests_hash {
        let got = output.requests.as_ref().map(|r| r.requests_hash());
        if got != Some(expected) {
            mismatches.push(HeaderMismatch::RequestsHash { expected, got });
        }
    }

    if !mismatches.is_empty() {
        HeaderCheck::Mismatch(mismatches)
    } else if output.missing_uncle_rewards > 0 {
        HeaderCheck::MatchRewardsIncomplete {
            uncles: output.missing_uncle_rewards,
        }
    } else {
        HeaderCheck::Match
    }
}

/// The bloom filter of some logs (a receipt's bloom).
pub fn logs_bloom<'a>(logs: impl IntoIterator<Item = &'a Log>) -> Bloom {
    let mut bloom = Bloom::ZERO;
    for log in logs {
        bloom.accrue_log(log);
    }
    bloom
}

/// The block's bloom: the OR of its receipts' blooms.
pub fn block_bloom<'a>(receipts: impl IntoIterator<Item = &'a Receipt>) -> Bloom {
    logs_bloom(receipts.into_iter().flat_map(|r| r.logs.iter()))
}

/// The receipts root: the root of the ordered trie mapping `rlp(index)` to the EIP-2718
/// encoding of each receipt (alloy's `calculate_receipt_root`; the empty trie root for no
/// receipts).
pub fn receipts_root(receipts: &[ReceiptEnvelope]) -> B256 {
    calculate_receipt_root(receipts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evm::block::HeaderFields;
    use crate::evm::convert::alloy_receipt;
    use crate::evm::output::TxOutcome;
    use alloy_eips::eip2718::Encodable2718;
    use alloy_rlp::Encodable;
    use revm::primitives::{address, b256, bytes, hex, keccak256, Address, LogData};

    /// The root of our receipts, through their alloy form.
    fn root_of(receipts: &[Receipt]) -> B256 {
        let converted: Vec<_> = receipts
            .iter()
            .enumerate()
            .map(|(i, r)| alloy_receipt(i, r).unwrap())
            .collect();
        receipts_root(&converted)
    }

    /// One receipt's EIP-2718 encoding, through its alloy form.
    fn receipt_encoding(receipt: &Receipt) -> Vec<u8> {
        alloy_receipt(0, receipt).unwrap().encoded_2718()
    }

    fn receipt(tx_type: u8, success: bool, cumulative: u64, logs: Vec<Log>) -> Receipt {
        Receipt {
            tx_type,
            success,
            gas_used: 0,
            cumulative_gas_used: cumulative,
            logs,
        }
    }

    #[test]
    fn empty_receipts_root_is_the_empty_trie() {
        let none: [Receipt; 0] = [];
        assert_eq!(
            root_of(&none),
            b256!("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
        );
    }

    #[test]
    fn receipt_encoding_layout() {
        // Legacy, failed, no logs: f9 0108 | 80 | 82 5208 | b9 0100 <256 zero bytes> | c0
        let enc = receipt_encoding(&receipt(0, false, 21_000, vec![]));
        let mut want = hex::decode("f9010880825208b90100").unwrap();
        want.extend([0u8; 256]);
        want.push(0xc0);
        assert_eq!(enc, want);
        // Typed: the type byte comes first; status 1 encodes as 0x01.
        let enc = receipt_encoding(&receipt(2, true, 21_000, vec![]));
        assert_eq!(&enc[..5], &hex!("02f9010801")[..]);
    }

    #[test]
    fn single_receipt_root_matches_a_hand_built_trie() {
        // A trie with one leaf: key rlp(0) = 0x80, nibbles [8, 0], compact-encoded as
        // 0x20 0x80; the node rlp([0x2080, value]) is hashed as it is >= 32 bytes.
        let r = receipt(2, true, 21_000, vec![]);
        let value = receipt_encoding(&r);
        let mut node_payload = Vec::new();
        bytes!("2080").encode(&mut node_payload);
        value.as_slice().encode(&mut node_payload);
        let mut node = Vec::new();
        alloy_rlp::Header {
            list: true,
            payload_length: node_payload.len(),
        }
        .encode(&mut node);
        node.extend(node_payload);
        assert_eq!(root_of(&[r]), keccak256(&node));
    }

    #[test]
    fn bloom_of_a_log() {
        // An ERC-20 Transfer log: address and 3 topics set 3 bits each.
        let log = Log {
            address: address!("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"),
            data: LogData::new_unchecked(
                vec![
                    b256!("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"),
                    b256!("000000000000000000000000000000000000000000000000000000000000dead"),
                    b256!("000000000000000000000000000000000000000000000000000000000000beef"),
                ],
                bytes!("01"),
            ),
        };
        // Reference: the yellow paper's M3:2048 on keccak256 of the address and each topic.
        let mut want = [0u8; 256];
        let mut items: Vec<&[u8]> = vec![log.address.as_slice()];
        items.extend(log.topics().iter().map(|t| t.as_slice()));
        for item in items {
            let h = keccak256(item);
            for i in [0, 2, 4] {
                let bit = (usize::from(h[i]) << 8 | usize::from(h[i + 1])) & 2047;
                want[255 - bit / 8] |= 1 << (bit % 8);
            }
        }
        let got = logs_bloom([&log]);
        assert_eq!(got, Bloom::from(want));
        let bits: u32 = got.as_slice().iter().map(|b| b.count_ones()).sum();
        assert!((1..=12).contains(&bits), "{bits} bits set");
        // The data does not enter the bloom; no logs give the zero bloom.
        assert_eq!(logs_bloom(&[] as &[Log]), Bloom::ZERO);
    }

    fn block(spec: SpecId, header: Option<HeaderFields>) -> Block {
        Block {
            header,
            ..Block::empty(spec)
        }
    }

    #[test]
    fn check_header_reports_each_field() {
        let log = Log {
            address: Address::repeat_byte(1),
            data: LogData::new_unchecked(vec![B256::repeat_byte(2)], Default::default()),
        };
        let txs: Vec<TxOutcome> = vec![
            Ok(receipt(0, true, 21_000, vec![log.clone()])),
            Err("nonce too low".into()),
            Ok(receipt(2, false, 50_000, vec![])),
        ];
        let receipts: Vec<Receipt> = txs.iter().filter_map(|t| t.clone().ok()).collect();
        let txs = BlockOutput {
            txs,
            ..BlockOutput::default()
        };
        let good = HeaderFields {
            gas_used: 50_000,
            logs_bloom: logs_bloom([&log]),
            receipts_root: root_of(&receipts),
            requests_hash: None,
        };
        assert_eq!(
            check_header(&block(SpecId::CANCUN, None), &txs),
            HeaderCheck::NoHeader
        );
        assert!(check_header(&block(SpecId::CANCUN, Some(good.clone())), &txs).is_match());

        let bad = HeaderFields {
            gas_used: 49_999,
            logs_bloom: Bloom::ZERO,
            receipts_root: B256::ZERO,
            requests_hash: None,
        };
        let check = check_header(&block(SpecId::BYZANTIUM, Some(bad.clone())), &txs);
        let HeaderCheck::Mismatch(fields) = &check else {
            panic!("{check}")
        };
        let names: Vec<_> = fields.iter().map(|m| m.field()).collect();
        assert_eq!(names, ["gasUsed", "logsBloom", "receiptsRoot"]);
        assert_eq!(
            fields[0],
            HeaderMismatch::GasUsed {
                expected: 49_999,
                got: 50_000
            }
        );
        // Before Byzantium the receipts root is not checked.
        let check = check_header(
            &block(
                SpecId::SPURIOUS_DRAGON,
                Some(HeaderFields {
                    receipts_root: B256::ZERO,
                    ..good
                }),
            ),
            &txs,
        );
        assert!(check.is_match(), "{check}");
        // An empty block uses no gas and has the empty bloom and root.
        let empty = HeaderFields {
            gas_used: 0,
            logs_bloom: Bloom::ZERO,
            receipts_root: b256!(
                "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
            ),
            requests_hash: None,
        };
        let none = BlockOutput::default();
        assert!(check_header(&block(SpecId::CANCUN, Some(empty.clone())), &none).is_match());

        // requestsHash, where the header has one: the empty requests' hash matches no
        // requests; an execution without requests (before Prague) does not.
        let with_hash = HeaderFields {
            requests_hash: Some(alloy_eips::eip7685::EMPTY_REQUESTS_HASH),
            ..empty.clone()
        };
        let requests = BlockOutput {
            requests: Some(Default::default()),
            ..BlockOutput::default()
        };
        let prague = block(SpecId::PRAGUE, Some(with_hash));
        assert!(check_header(&prague, &requests).is_match());
        let check = check_header(&prague, &none);
        let HeaderCheck::Mismatch(fields) = &check else {
            panic!("{check}")
        };
        assert_eq!(fields[0].field(), "requestsHash");

        // Missing uncle rewards: the fields match, and the check says what is missing.
        let incomplete = BlockOutput {
            missing_uncle_rewards: 1,
            ..BlockOutput::default()
        };
        let check = check_header(&block(SpecId::PETERSBURG, Some(empty)), &incomplete);
        assert_eq!(check, HeaderCheck::MatchRewardsIncomplete { uncles: 1 });
        assert!(check.is_match() && check.rewards_incomplete());
        assert!(check.to_string().contains("rewards incomplete"), "{check}");
    }

    /// Mainnet block 15537393 (the last proof-of-work block) has one transaction: type 2,
    /// successful, 29991429 gas, one ERC-721 Transfer log (mint of token 0x11). Its header's
    /// logsBloom and receiptsRoot are real, independently computed values.
    #[test]
    fn receipts_root_of_mainnet_block_15537393() {
        let log = Log {
            address: address!("30f7bf69d92828441f5a6bfcf818df25deb2c4b4"),
            data: LogData::new_unchecked(
                vec![
                    b256!("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"),
                    B256::ZERO,
                    b256!("0000000000000000000000005827c0ccf705720cfa395e3fb2dcc449aeef331c"),
                    b256!("0000000000000000000000000000000000000000000000000000000000000011"),
                ],
                Default::default(),
            ),
        };
        let r = receipt(2, true, 29_991_429, vec![log]);
        assert_eq!(
            logs_bloom(&r.logs),
            b256_bloom("00000400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000080000000000000000000000008000000000000000000000000000000000000000000000000020000000000000000000800000000004000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000008400000000001002000000000000000000000000000000000002000000020000000020000000000000000000000000000000000000000040000000000000000000000000")
        );
        assert_eq!(
            root_of(&[r]),
            b256!("baa842cfd552321a9c2450576126311e071680a1258032219c6490b663c1dab8")
        );
    }

    fn b256_bloom(s: &str) -> Bloom {
        Bloom::from_slice(&hex::decode(s).unwrap())
    }
}
