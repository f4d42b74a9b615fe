// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title CPU- and storage-heavy contract for stmlab's "contract-heavy" workload.
/// @notice Each caller owns 16 private storage words, so `work` calls from
///         different senders touch disjoint storage (no conflicts), while
///         `workShared` also increments one shared counter (every pair of
///         such calls conflicts). No constructor: deploy the runtime code.
///
/// Storage layout (fixed; the generator / checks depend on it):
///   slot 0: counter                 (plain uint256)
///   slot 1: scratch                 scratch[a][j] at uint256(keccak256(abi.encode(a, uint256(1)))) + j, j in 0..15
contract Compute {
    uint256 public counter; // slot 0
    mapping(address => uint256[16]) public scratch; // slot 1

    /// Runs `iterations` rounds of: acc = keccak256(acc, i); one 64-bit
    /// multiply-xor mix; scratch[msg.sender][i % 16] += acc (wrapping).
    /// Every round does one SLOAD and one SSTORE on the caller's own words.
    /// Returns the final accumulator.
    function work(uint256 iterations, uint256 seed) public returns (uint256 acc) {
        uint256[16] storage s = scratch[msg.sender];
        acc = seed;
        unchecked {
            for (uint256 i = 0; i < iterations; ++i) {
                acc = uint256(keccak256(abi.encode(acc, i)));
                acc ^= (acc >> 64) * 0x9E3779B97F4A7C15;
                s[i & 15] += acc;
            }
        }
    }

    /// Same as `work` with seed = uint160(msg.sender), plus `counter += 1`:
    /// a read-modify-write of slot 0 shared by every caller, to create
    /// contention.
    function workShared(uint256 iterations) external returns (uint256 acc) {
        acc = work(iterations, uint256(uint160(msg.sender)));
        counter += 1;
    }
}
