//! ConnectWise: placeholder, being written.

use super::{
    Company, CompanyFields, CompanyPage, Connection, Psa, PsaError, PsaKind, Vocabulary,
};

pub struct ConnectWise {
    #[allow(dead_code)]
    connection: Connection,
}

impl ConnectWise {
    pub fn new(connection: Connection) -> Result<Self, PsaError> {
        Ok(Self { connection })
    }
}

impl Psa for ConnectWise {
    fn kind(&self) -> PsaKind {
        PsaKind::ConnectWise
    }
    fn check(&self) -> Result<(), PsaError> {
        Err(PsaError::Config("not yet".into()))
    }
    fn vocabulary(&self) -> Result<Vocabulary, PsaError> {
        Err(PsaError::Config("not yet".into()))
    }
    fn companies(&self, _cursor: Option<&str>) -> Result<CompanyPage, PsaError> {
        Err(PsaError::Config("not yet".into()))
    }
    fn create(&self, _fields: &CompanyFields) -> Result<Company, PsaError> {
        Err(PsaError::Config("not yet".into()))
    }
    fn update(&self, _id: &str, _fields: &CompanyFields) -> Result<(), PsaError> {
        Err(PsaError::Config("not yet".into()))
    }
}
