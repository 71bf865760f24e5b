//! Any bytes into the logo pipeline: it must refuse or succeed, never panic, and what it accepts
//! must be no larger than the limits allow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(logo) = roster::logo::process(data) {
        assert!(logo.width >= 1 && logo.width <= roster::logo::TARGET_WIDTH);
        assert!(logo.height <= roster::logo::MAX_HEIGHT);
        assert!(!logo.bytes.is_empty());
    }
});
