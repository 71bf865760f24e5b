//! Signing in with a passkey, the second step after the password: (filled in once the pending
//! sign-in state lands).
