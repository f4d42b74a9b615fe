// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Minimal ERC-20 token for stmlab's synthetic workloads.
/// @notice No constructor, no immutables, no owner, no mint: the workload
///         generator deploys the RUNTIME bytecode straight into the pre-state
///         and sets balances / allowances / totalSupply by writing storage.
///
/// Storage layout (fixed; the generator depends on it):
///   slot 0: balanceOf   balanceOf[a]    at keccak256(abi.encode(a, uint256(0)))
///   slot 1: allowance   allowance[o][s] at keccak256(abi.encode(s, keccak256(abi.encode(o, uint256(1)))))
///   slot 2: totalSupply (plain uint256)
contract ERC20 {
    mapping(address => uint256) public balanceOf; // slot 0
    mapping(address => mapping(address => uint256)) public allowance; // slot 1
    uint256 public totalSupply; // slot 2

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    error InsufficientBalance();
    error InsufficientAllowance();

    /// Moves `value` tokens from the caller to `to`.
    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    /// Sets the caller's allowance for `spender` to `value`.
    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    /// Moves `value` tokens from `from` to `to` using the caller's allowance.
    /// An allowance of type(uint256).max is "infinite": it is not decreased,
    /// so the allowance slot is only read, never written.
    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            if (allowed < value) revert InsufficientAllowance();
            unchecked {
                allowance[from][msg.sender] = allowed - value;
            }
        }
        _move(from, to, value);
        return true;
    }

    function _move(address from, address to, uint256 value) private {
        uint256 fromBalance = balanceOf[from];
        if (fromBalance < value) revert InsufficientBalance();
        unchecked {
            balanceOf[from] = fromBalance - value;
        }
        // Checked: cannot overflow if totalSupply is consistent, but the
        // generator writes balances directly, so stay safe.
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
