//! The hardfork of a block: the mainnet rule by number and timestamp, or the name in the
//! folder's optional `spec.txt`.

use std::fs;
use std::path::Path;

use revm::primitives::hardfork::SpecId;

use super::{LoadError, SPEC_FILE};

/// Mainnet activation of Osaka (Fusaka's execution layer).
pub const MAINNET_OSAKA_TIMESTAMP: u64 = 1_764_798_551;

/// The hardfork of a mainnet block by its number and timestamp. The blob-parameter-only
/// forks after Osaka (BPO1, BPO2) change no EVM rule, so they are Osaka here; their blob
/// parameters are `blobs::mainnet_blob_params`.
pub fn mainnet_spec(number: u64, timestamp: u64) -> SpecId {
    if timestamp >= MAINNET_OSAKA_TIMESTAMP {
        SpecId::OSAKA
    } else if timestamp >= 1_746_612_311 {
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
        "osaka" => SpecId::OSAKA,
        _ => return None,
    })
}

/// Reads the optional `spec.txt` of a block folder.
pub(super) fn read_spec_override(dir: &Path) -> Result<Option<SpecId>, LoadError> {
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::load_block_dir;
    use super::*;

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
        fs::write(dir.join("spec.txt"), "Osaka\n").unwrap();
        assert_eq!(load_block_dir(&dir).unwrap().0.spec, SpecId::OSAKA);
        fs::write(dir.join("spec.txt"), "Dencun\n").unwrap();
        let msg = load_err(&dir);
        assert!(
            msg.contains("spec.txt: unknown hardfork name \"Dencun\""),
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
            ("Osaka", SpecId::OSAKA),
            ("osaka", SpecId::OSAKA),
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
        assert_eq!(mainnet_spec(22_500_000, 1_746_612_311), SpecId::PRAGUE);
        assert_eq!(mainnet_spec(23_900_000, 1_764_798_550), SpecId::PRAGUE);
        assert_eq!(mainnet_spec(23_900_001, 1_764_798_551), SpecId::OSAKA);
        // The blob-parameter-only forks keep Osaka's rules.
        assert_eq!(mainnet_spec(24_000_000, 1_765_290_071), SpecId::OSAKA);
        assert_eq!(mainnet_spec(24_200_000, 1_767_747_671), SpecId::OSAKA);
    }
}
