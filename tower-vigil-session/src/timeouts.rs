//! The default timeouts, shared by the builder and the cookie (whose `Max-Age` follows the
//! absolute timeout).

use std::time::Duration;

/// The default idle timeout: 24 hours (the original service's session lifetime).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// The default absolute timeout: 7 days from creation, whatever the activity.
pub const DEFAULT_ABSOLUTE_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
