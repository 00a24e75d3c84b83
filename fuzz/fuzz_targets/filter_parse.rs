//! Arbitrary bytes as a filter: `trawl_proto::Filter`'s hand-written condition
//! parser, the conversion to the domain filter, `Filter::validate` and
//! `Filter::matches` on a fixed payload, then the index's own answer.
//!
//! Checked beyond "never panics":
//! - a parsed filter serialises to JSON that parses back to the same filter
//!   (what the client crate sends is what the server reads);
//! - `must_not: [F]` matches exactly where `F` does not;
//! - for a filter that validates against the fixture schema, an exact search
//!   of each fixture collection (payload index and planner) returns exactly
//!   the points that the evaluator matches.

#![no_main]

use std::collections::{BTreeMap, BTreeSet};

use libfuzzer_sys::fuzz_target;
use trawl_fuzz::{convert, fixture};
use trawl_index::PointId;
use trawl_index::filter::{Condition, Filter, FilterLimits};
use trawl_proto as api;

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = serde_json::from_slice::<api::Filter>(data) else {
        return;
    };
    round_trip(&parsed);
    let Ok(filter) = convert::filter(&parsed) else {
        return;
    };
    let limits = FilterLimits::default();
    let valid = filter.validate(&fixture::schema(), &limits).is_ok();
    let tight = FilterLimits {
        max_depth: 1,
        max_conditions: 3,
    };
    let _ = filter.validate(&BTreeMap::new(), &tight);

    let payload = fixture::payload();
    let negated = Filter {
        must_not: vec![Condition::Nested(filter.clone())],
        ..Filter::default()
    };
    for id in fixture::ids() {
        for payload in [Some(&payload), None] {
            assert_eq!(
                negated.matches(&id, payload),
                !filter.matches(&id, payload),
                "must_not [F] is not the negation of F"
            );
        }
    }

    if valid {
        let fx = fixture::fixture();
        let expected: BTreeSet<PointId> = fx
            .points
            .iter()
            .filter(|(id, payload)| filter.matches(id, payload.as_ref()))
            .map(|(id, _)| *id)
            .collect();
        for collection in &fx.collections {
            let got = fixture::exact_matches(collection, &filter, limits)
                .unwrap_or_else(|e| panic!("a validated filter failed to search: {e}"));
            assert_eq!(
                got,
                expected,
                "the index and the evaluator disagree ({:?})",
                collection.config().layout
            );
        }
    }
});

fn round_trip(parsed: &api::Filter) {
    let json = serde_json::to_string(parsed).expect("a filter serialises");
    let back: api::Filter = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("the serialised filter {json} does not parse: {e}"));
    assert_eq!(&back, parsed, "the filter changed through {json}");
}
