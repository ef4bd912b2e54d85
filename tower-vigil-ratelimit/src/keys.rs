//! Every backend key this crate names, relative to the backend's prefix:
//! `ratelimit:{<caller's key>}:<policy>` for GCRA, `ratelimit:{<caller's key>}:<policy>:<algorithm>`
//! for the others (so changing a policy's algorithm never reads another algorithm's state).
//!
//! The caller's key is the cluster hash tag: every policy of one request lands in one Redis
//! Cluster slot, so a multi-policy decision is one script there too.

use tower_vigil_core::secret::SecretHasher;

use crate::quota::{Algorithm, Policy};

/// The namespace of every key.
const NAMESPACE: &str = "ratelimit:";

/// Caller's keys longer than this are replaced by their SHA-256, so a huge header cannot make
/// huge backend keys.
pub(crate) const MAX_RAW_KEY_LEN: usize = 128;

/// The keys of `policies` for the caller's `key`, in the policies' order.
pub(crate) fn policy_keys(key: &str, policies: &[Policy]) -> Vec<String> {
    let mut prefix = String::with_capacity(NAMESPACE.len() + key.len() + 2);
    prefix.push_str(NAMESPACE);
    push_tag(&mut prefix, key);
    policies
        .iter()
        .map(|p| {
            let mut k = String::with_capacity(prefix.len() + p.name().len() + 4);
            k.push_str(&prefix);
            push_policy(&mut k, p);
            k
        })
        .collect()
}

/// The key of one policy for the caller's `key` (as [`policy_keys`]), in one allocation.
pub(crate) fn policy_key(key: &str, policy: &Policy) -> String {
    let mut k = String::with_capacity(NAMESPACE.len() + key.len() + policy.name().len() + 8);
    write_policy_key(&mut k, key, policy);
    k
}

/// Runs `f` on the key of one policy (as [`policy_key`]) written into this thread's reusable
/// buffer: no allocation, for a call that is over when `f` returns (an in-process decision).
#[inline]
pub(crate) fn with_policy_key<R>(key: &str, policy: &Policy, f: impl FnOnce(&str) -> R) -> R {
    thread_local! {
        static BUF: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    BUF.with(|buf| match buf.try_borrow_mut() {
        // The buffer keeps the longest key it held: a few hundred bytes at most, since a
        // caller's key above `MAX_RAW_KEY_LEN` is hashed.
        Ok(mut k) => {
            k.clear();
            write_policy_key(&mut k, key, policy);
            f(&k)
        }
        // Re-entered from `f` (not done today): its own allocation.
        Err(_) => f(&policy_key(key, policy)),
    })
}

fn write_policy_key(k: &mut String, key: &str, policy: &Policy) {
    k.push_str(NAMESPACE);
    push_tag(k, key);
    push_policy(k, policy);
}

/// Appends `{key}` with `%`, `#`, braces, whitespace and non-ASCII percent-encoded: the
/// braces make it the cluster hash tag and delimit it, so `:` may stay as is (shorter keys: a
/// GCRA key stays under 100 bytes in Redis) while distinct keys stay distinct. A key longer
/// than [`MAX_RAW_KEY_LEN`] becomes `{#<128 bits of its SHA-256>}`, which no escaped key can
/// equal (they never contain `#`).
fn push_tag(out: &mut String, key: &str) {
    if key.len() > MAX_RAW_KEY_LEN {
        let digest = SecretHasher::sha256().hash_hex(key.as_bytes());
        out.push_str("{#");
        out.push_str(&digest[..32]);
        out.push('}');
        return;
    }
    out.push('{');
    // `#` too: a raw key can then never look like the `{#digest}` form above.
    tower_vigil_core::keys::escape_into(out, key, b"%{}#");
    out.push('}');
}

/// Appends `:<policy>` for GCRA, `:<policy>:<algorithm>` for the others.
fn push_policy(out: &mut String, policy: &Policy) {
    out.push(':');
    out.push_str(policy.name());
    if policy.algorithm() != Algorithm::Gcra {
        out.push(':');
        out.push_str(policy.algorithm().code());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Quota;

    #[test]
    fn keys_share_the_callers_hash_tag() {
        let policies = [
            Policy::new("second", Quota::per_second(1)).unwrap(),
            Policy::with_algorithm("hour", Quota::per_hour(1), Algorithm::FixedWindow).unwrap(),
        ];
        assert_eq!(
            policy_keys("ip:10.0.0.1", &policies),
            [
                "ratelimit:{ip:10.0.0.1}:second",
                "ratelimit:{ip:10.0.0.1}:hour:fw"
            ]
        );
        assert_eq!(
            policy_key("ip:10.0.0.1", &policies[1]),
            "ratelimit:{ip:10.0.0.1}:hour:fw"
        );
        assert_eq!(
            policy_key("a}{#b", &policies[0]),
            "ratelimit:{a%7D%7B%23b}:second"
        );
        let long = "x".repeat(MAX_RAW_KEY_LEN + 1);
        let hashed = policy_key(&long, &policies[0]);
        assert!(
            hashed.starts_with("ratelimit:{#") && hashed.len() < 60,
            "{hashed}"
        );
    }
}
