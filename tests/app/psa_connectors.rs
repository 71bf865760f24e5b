//! The connectors against the test doubles: placeholder, being written.
