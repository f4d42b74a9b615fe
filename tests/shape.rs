//! The block shape the adaptive mode judges (`stmlab::evm::shape`), on generated blocks.

use stmlab::evm::shape::Shape;
use stmlab_workloads as workloads;

#[test]
fn a_chain_of_one_sender_has_no_parallelism() {
    let (block, _) = workloads::from_spec("chain:txs=50").unwrap();
    let shape = Shape::of(&block);
    assert_eq!(shape.txs, 50);
    assert_eq!(shape.busiest_sender.map(|(_, n)| n), Some(50));
    assert_eq!(shape.parallelism_bound(), 1.0);
}

#[test]
fn independent_transfers_have_distinct_senders() {
    let (block, _) = workloads::from_spec("transfers:txs=200,accounts=100000,hot=0").unwrap();
    let shape = Shape::of(&block);
    let (_, most) = shape.busiest_sender.unwrap();
    assert!(most <= 3, "one sender has {most} of 200 transfers");
    assert!(shape.parallelism_bound() >= 60.0);
}

#[test]
fn an_empty_block_has_no_sender() {
    let (mut block, _) = workloads::from_spec("chain:txs=1").unwrap();
    block.txs.clear();
    let shape = Shape::of(&block);
    assert_eq!(shape.busiest_sender, None);
    assert_eq!(shape.parallelism_bound(), 1.0);
}
