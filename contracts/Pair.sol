// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// The two calls the pair makes on its tokens (instances of ERC20.sol).
interface IToken {
    function balanceOf(address owner) external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

/// @title Constant-product (x*y=k) pair with a 0.3% fee, for stmlab workloads.
/// @notice Written for benchmarks, not for money: no liquidity tokens, no
///         mint/burn, no price oracle, no reentrancy lock. The generator
///         deploys the RUNTIME bytecode and sets every slot below directly.
///
/// Storage layout (fixed; the generator depends on it):
///   slot 0: token0 (address, low 160 bits)
///   slot 1: token1 (address, low 160 bits)
///   slot 2: reserve0 | reserve1 << 112 | blockTimestampLast << 224
/// The pair's token balances (balanceOf[pair] in each token) must equal the
/// reserves for `swap` to work; `swapExactIn` only uses the reserves.
contract Pair {
    address public token0; // slot 0
    address public token1; // slot 1
    uint112 private reserve0; // slot 2, bits   0..111
    uint112 private reserve1; // slot 2, bits 112..223
    uint32 private blockTimestampLast; // slot 2, bits 224..255

    event Swap(
        address indexed sender,
        uint256 amount0In,
        uint256 amount1In,
        uint256 amount0Out,
        uint256 amount1Out,
        address indexed to
    );

    error ZeroAmount();
    error InsufficientLiquidity();
    error InsufficientOutput();
    error InsufficientInput();
    error KInvariant();
    error Overflow();
    error TokenCallFailed();

    function getReserves() external view returns (uint112, uint112, uint32) {
        return (reserve0, reserve1, blockTimestampLast);
    }

    /// Output for `amountIn` against reserves (rIn, rOut), 0.3% fee:
    ///   out = amountIn*997*rOut / (rIn*1000 + amountIn*997)
    function getAmountOut(uint256 amountIn, uint256 rIn, uint256 rOut) public pure returns (uint256) {
        uint256 inWithFee = amountIn * 997;
        return (inWithFee * rOut) / (rIn * 1000 + inWithFee);
    }

    /// One-transaction swap, no prior approve transaction needed (the
    /// generator pre-sets allowance[trader][pair] in the input token):
    ///   1. pulls `amountIn` of the input token from the caller (transferFrom),
    ///   2. sends `out` of the other token to the caller (transfer),
    ///   3. reserves += amountIn / -= out, timestamp = block.timestamp.
    /// zeroForOne = true sells token0 for token1; false sells token1 for token0.
    function swapExactIn(bool zeroForOne, uint256 amountIn, uint256 minOut) external returns (uint256 out) {
        if (amountIn == 0) revert ZeroAmount();
        (uint256 r0, uint256 r1) = (reserve0, reserve1);
        (address tokenIn, address tokenOut, uint256 rIn, uint256 rOut) =
            zeroForOne ? (token0, token1, r0, r1) : (token1, token0, r1, r0);

        out = getAmountOut(amountIn, rIn, rOut);
        if (out == 0 || out < minOut) revert InsufficientOutput();
        if (out >= rOut) revert InsufficientLiquidity();

        _call(tokenIn, abi.encodeCall(IToken.transferFrom, (msg.sender, address(this), amountIn)));
        _call(tokenOut, abi.encodeCall(IToken.transfer, (msg.sender, out)));

        if (zeroForOne) {
            _update(r0 + amountIn, r1 - out);
            emit Swap(msg.sender, amountIn, 0, 0, out, msg.sender);
        } else {
            _update(r0 - out, r1 + amountIn);
            emit Swap(msg.sender, 0, amountIn, out, 0, msg.sender);
        }
    }

    /// Uniswap-V2-shaped swap: the input must already have been transferred to
    /// the pair (e.g. an earlier `transfer` transaction); sends the requested
    /// outputs to `to`, infers the input from the pair's token balances, and
    /// checks the fee-adjusted invariant
    ///   (b0*1000 - in0*3) * (b1*1000 - in1*3) >= r0 * r1 * 1000^2.
    function swap(uint256 amount0Out, uint256 amount1Out, address to) external {
        if (amount0Out == 0 && amount1Out == 0) revert ZeroAmount();
        (uint256 r0, uint256 r1) = (reserve0, reserve1);
        if (amount0Out >= r0 || amount1Out >= r1) revert InsufficientLiquidity();

        (address t0, address t1) = (token0, token1);
        if (amount0Out > 0) _call(t0, abi.encodeCall(IToken.transfer, (to, amount0Out)));
        if (amount1Out > 0) _call(t1, abi.encodeCall(IToken.transfer, (to, amount1Out)));
        uint256 b0 = IToken(t0).balanceOf(address(this));
        uint256 b1 = IToken(t1).balanceOf(address(this));

        // Input = whatever the balance holds beyond (reserve - output).
        uint256 in0 = b0 > r0 - amount0Out ? b0 - (r0 - amount0Out) : 0;
        uint256 in1 = b1 > r1 - amount1Out ? b1 - (r1 - amount1Out) : 0;
        if (in0 == 0 && in1 == 0) revert InsufficientInput();
        if ((b0 * 1000 - in0 * 3) * (b1 * 1000 - in1 * 3) < r0 * r1 * 1_000_000) revert KInvariant();

        _update(b0, b1);
        emit Swap(msg.sender, in0, in1, amount0Out, amount1Out, to);
    }

    /// Writes slot 2: both reserves and the low 32 bits of block.timestamp.
    function _update(uint256 r0, uint256 r1) private {
        if (r0 > type(uint112).max || r1 > type(uint112).max) revert Overflow();
        reserve0 = uint112(r0);
        reserve1 = uint112(r1);
        blockTimestampLast = uint32(block.timestamp);
    }

    /// Calls a token and requires success and a true (or empty) return.
    function _call(address token, bytes memory data) private {
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length != 0 && !abi.decode(ret, (bool)))) revert TokenCallFailed();
    }
}
