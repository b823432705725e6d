//! Fuzz target: `syntax::parse` must never panic, hang or overflow the stack on
//! any input, and whatever it accepts must print and parse back to the same tree.
//! Run with `cargo +nightly fuzz run parse` from the repository root.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    if let Ok(file) = mlslo::compiler::syntax::parse(&source, 0) {
        let printed = mlslo::compiler::syntax::print(&file);
        let reparsed = mlslo::compiler::syntax::parse(&printed, 0);
        assert!(reparsed.is_ok(), "printed text does not parse:\n{printed}\n{reparsed:?}");
        let reprinted = mlslo::compiler::syntax::print(&reparsed.expect("checked above"));
        assert_eq!(printed, reprinted, "printing is not a fixed point");
    }
});
