//! What the queue and the worker know of a kind of job: this trait. Each area (`orgs`, `psa`)
//! implements it for its jobs, and `startup` fills the [`Registry`] the worker runs from, so
//! that `jobs/` imports none of them.

use super::JobError;
use super::queue::Job;
use super::worker::Context;
use crate::db::{DbConn, DbError};

/// One kind of job: its name in the `jobs.kind` column and how to run one.
pub trait JobKind: Send + Sync {
    /// The `kind` its rows carry.
    fn name(&self) -> &'static str;

    /// Runs (or resumes) one job of this kind.
    fn run(&self, context: &Context, job: &Job) -> Result<(), JobError>;

    /// Before the worker looks for due jobs: queue this kind's scheduled work, if any.
    fn schedule(&self, _conn: &mut DbConn) -> Result<(), DbError> {
        Ok(())
    }

    /// Now and then (with the queue's own clean-up): forget this kind's old records.
    fn prune(&self, _conn: &mut DbConn) -> Result<(), DbError> {
        Ok(())
    }
}

/// The kinds a worker runs, filled at start-up.
#[derive(Default)]
pub struct Registry {
    kinds: Vec<Box<dyn JobKind>>,
}

impl Registry {
    pub fn with(mut self, kind: impl JobKind + 'static) -> Self {
        self.kinds.push(Box::new(kind));
        self
    }

    pub fn find(&self, name: &str) -> Option<&dyn JobKind> {
        self.kinds
            .iter()
            .find(|k| k.name() == name)
            .map(AsRef::as_ref)
    }

    pub fn all(&self) -> impl Iterator<Item = &dyn JobKind> {
        self.kinds.iter().map(AsRef::as_ref)
    }
}

#[cfg(test)]
mod tests {
    /// The circle this registry broke: the queue and the worker must not name a job kind's area.
    #[test]
    fn the_queue_and_the_worker_import_no_job_kind() {
        let areas = [concat!("crate::", "orgs"), concat!("crate::", "psa")];
        for (file, source) in [
            ("mod.rs", include_str!("mod.rs")),
            ("queue.rs", include_str!("queue.rs")),
            ("worker.rs", include_str!("worker.rs")),
            ("kind.rs", include_str!("kind.rs")),
        ] {
            for area in areas {
                assert!(!source.contains(area), "jobs/{file} uses {area}");
            }
        }
    }

    #[test]
    fn organizations_do_not_reach_up_into_the_psa() {
        let source = include_str!("../orgs/create.rs");
        assert!(!source.contains(concat!("crate::", "psa")));
    }
}
