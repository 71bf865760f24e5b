//! The pages that enrolment shows both from My account and inside a pending sign-in: the QR code
//! and secret with the first-code form, and the recovery codes (shown once).

use askama::Template;

use super::ctx::PageCtx;
use crate::auth::two_factor::totp::Enrolment;

#[derive(Template)]
#[template(path = "two_factor/enrol.html")]
pub struct EnrolPage {
    pub ctx: PageCtx,
    /// The QR code as an SVG element (drawn by the server from the otpauth address).
    pub qr_svg: String,
    pub secret: String,
    /// Where the first code is posted.
    pub action: &'static str,
    /// Inside a pending sign-in (no way back to My account).
    pub signing_in: bool,
    pub error: Option<String>,
}

impl EnrolPage {
    pub fn new(
        ctx: PageCtx,
        enrolment: Enrolment,
        action: &'static str,
        signing_in: bool,
        error: Option<String>,
    ) -> Self {
        // The renderer starts with an XML declaration, which has no place inside HTML.
        let svg = enrolment
            .qr_svg
            .find("<svg")
            .map_or(String::new(), |start| enrolment.qr_svg[start..].to_owned());
        Self {
            ctx,
            qr_svg: svg,
            secret: enrolment.secret,
            action,
            signing_in,
            error,
        }
    }
}

#[derive(Template)]
#[template(path = "two_factor/recovery_codes.html")]
pub struct CodesPage {
    pub ctx: PageCtx,
    pub codes: Vec<String>,
    /// Where the Continue link goes.
    pub continue_to: String,
}
