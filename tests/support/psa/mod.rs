//! Test doubles of ConnectWise Manage and Autotask: placeholder, being written.
