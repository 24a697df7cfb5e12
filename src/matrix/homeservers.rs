//! Where real homeservers differ from the spec's algorithm (as their
//! sources show): Synapse, Dendrite
//! (gomatrixserverlib), and the Conduit family (Conduit, conduwuit, tuwunel,
//! continuwuity). Each function gives the sentences [`super::resolve`]
//! attaches to the step where the difference shows.

/// Which homeservers ask for `_matrix-fed._tcp` at all (it is spec v1.8).
pub fn fed_srv_versions() -> String {
    "`_matrix-fed._tcp` is spec v1.8 (2023, MSC4040): Synapse asks it since 1.93.0, Dendrite since 0.13.3, \
     Conduit since 0.7.0; older versions ask only `_matrix._tcp`"
        .to_owned()
}

/// The step asked `_matrix-fed._tcp` and got SERVFAIL.
pub fn servfail_on_fed_srv() -> Vec<String> {
    vec![
        "Synapse: SERVFAIL on the SRV name is fatal; it does not fall back and federation with this server fails".to_owned(),
        "Dendrite: falls through to the name on port 8448".to_owned(),
        "conduwuit and tuwunel abort; continuwuity treats SERVFAIL as not found and goes on".to_owned(),
    ]
}

/// Several SRV records: who uses which.
pub fn several_srv_records(first_in_answer: &str, preferred: &str) -> Vec<String> {
    let mut out = vec![
        "Synapse orders by priority, then RFC 2782 weights, and fails over to the next target"
            .to_owned(),
        "Dendrite orders by priority, randomised by weight".to_owned(),
    ];
    let conduit = format!(
        "the Conduit family (Conduit, conduwuit, tuwunel, continuwuity) uses only the first record of the DNS answer: {first_in_answer}"
    );
    if first_in_answer == preferred {
        out.push(conduit);
    } else {
        out.push(format!("{conduit}, not the preferred {preferred}: the order of the records in the answer decides for them"));
    }
    out
}

/// The only SRV record has target `.`.
pub fn srv_target_root() -> Vec<String> {
    vec!["Synapse refuses to connect: no fallback to port 8448".to_owned()]
}

/// An SRV target is a CNAME.
pub fn srv_target_is_cname(target: &str) -> String {
    format!(
        "the SRV target {target} is a CNAME, which RFC 2782 forbids: Synapse follows it, the Matrix federation tester rejects it"
    )
}

/// The deprecated `_matrix._tcp` step was reached (no `_matrix-fed` record).
pub fn legacy_srv_reached(fed_status: &str) -> Vec<String> {
    let mut out = vec![
        "Synapse asks `_matrix._tcp` only when no `_matrix-fed._tcp` record exists".to_owned(),
        format!("Dendrite asks it only when `_matrix-fed._tcp` is NotFound (here: {fed_status})"),
        "Conduit, conduwuit and continuwuity still ask it; tuwunel 1.0 to 1.4 did not, and could not reach servers published only here".to_owned(),
    ];
    if fed_status == "SERVFAIL" {
        out[0] = "Synapse never gets here: SERVFAIL on `_matrix-fed._tcp` was fatal".to_owned();
    }
    out
}

/// The deprecated `_matrix._tcp` step was not asked because `_matrix-fed` has records.
pub fn legacy_srv_not_asked(legacy_summary: &str) -> Vec<String> {
    vec![
        format!(
            "homeservers older than Synapse 1.93.0, Dendrite 0.13.3 and Conduit 0.7.0 ask only `_matrix._tcp`; there they find {legacy_summary}"
        ),
        "Synapse does not fall back to `_matrix._tcp` when the `_matrix-fed._tcp` target fails"
            .to_owned(),
    ]
}

/// The `.well-known` step: caching and limits.
pub fn well_known_behaviour() -> Vec<String> {
    vec![
        "Synapse caches a valid .well-known for 24 h (+/- 10 %, clamped to 5 min..48 h) and a failure for 1 h \
         (2 min if it was recently valid): a change takes that long to reach every peer"
            .to_owned(),
        "Synapse and Dendrite follow redirects and stop reading the body at 50 KiB".to_owned(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_records_name_the_conduit_choice() {
        let same = several_srv_records("a:443", "a:443");
        assert!(same[2].ends_with("a:443"));
        let differ = several_srv_records("b:443", "a:443");
        assert!(differ[2].contains("not the preferred a:443"));
    }

    #[test]
    fn servfail_changes_the_synapse_note_on_legacy() {
        assert!(legacy_srv_reached("SERVFAIL")[0].contains("never gets here"));
        assert!(legacy_srv_reached("NXDOMAIN")[1].contains("here: NXDOMAIN"));
    }
}
