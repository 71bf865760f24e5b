//! A stand-in PSA on this machine, to try Roster's PSA sync without a ConnectWise or Autotask
//! account: the test double of the PSA, seeded with a few companies, with a control page to add,
//! change and delete companies by hand.
//!
//! ```sh
//! cargo run --example psa-sandbox -- connectwise     # on port 8091
//! cargo run --example psa-sandbox -- autotask --port 9000
//! ```

#[path = "../tests/support/psa/mod.rs"]
mod psa;

use std::process::ExitCode;

use psa::{AutotaskDouble, ConnectWiseDouble, autotask, connectwise};

const USAGE: &str = "usage: cargo run --example psa-sandbox -- connectwise|autotask [--port N]
  connectwise listens on port 8091 by default, autotask on 8092.";

#[derive(Debug, Clone, Copy)]
enum Kind {
    ConnectWise,
    Autotask,
}

fn parse(args: &[String]) -> Result<(Kind, Option<u16>), String> {
    let mut kind = None;
    let mut port = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "connectwise" => kind = Some(Kind::ConnectWise),
            "autotask" => kind = Some(Kind::Autotask),
            "--port" => {
                let value = args.next().ok_or("--port needs a number")?;
                port = Some(
                    value
                        .parse::<u16>()
                        .map_err(|_| format!("{value:?} is not a port number"))?,
                );
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok((kind.ok_or("name the PSA: connectwise or autotask")?, port))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (kind, port) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("{message}\n");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let started = match kind {
        Kind::ConnectWise => start_connectwise(port.unwrap_or(connectwise::DEFAULT_PORT)),
        Kind::Autotask => start_autotask(port.unwrap_or(autotask::DEFAULT_PORT)),
    };
    let sandbox = match started {
        Ok(sandbox) => sandbox,
        Err(e) => {
            eprintln!("the sandbox could not start: {e} (is the port taken? try --port N)");
            return ExitCode::FAILURE;
        }
    };
    println!("Ctrl-C stops the sandbox.");
    let stopped = actix_web::rt::System::new().block_on(actix_web::rt::signal::ctrl_c());
    drop(sandbox);
    match stopped {
        Ok(()) => {
            println!("\nsandbox stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot wait for Ctrl-C: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Whichever double runs; dropping it stops it.
#[allow(dead_code, reason = "held only to keep the server running")]
enum Sandbox {
    ConnectWise(ConnectWiseDouble),
    Autotask(AutotaskDouble),
}

fn print_settings(title: &str, psa: &str, settings: &[(&str, String)], page: &str, count: usize) {
    println!("{title} sandbox is running, with {count} companies.\n");
    println!("In Roster: Settings, PSA, choose {psa} and enter:");
    for (label, value) in settings {
        println!("  {label:<26} {value}");
    }
    println!(
        "\nThe address is plain http:// on this machine (127.0.0.1): start Roster with \
         ROSTER_PSA_ALLOW_HTTP=true ROSTER_PSA_ALLOW_PRIVATE=true (for local trials only)."
    );
    println!("\nControl page (add, deactivate, delete companies): {page}");
}

fn start_connectwise(port: u16) -> std::io::Result<Sandbox> {
    let cw = ConnectWiseDouble::start_on_port(port)?;
    cw.add_company("Acme Corporation", "AcmeCorp", "Client", "Active");
    cw.add_company("Globex", "Globex", "Client", "Active");
    cw.add_company("Initech", "Initech", "Prospect", "Active");
    cw.add_company(
        "Umbrella Supplies",
        "UmbrellaSupplies",
        "Vendor",
        "Inactive",
    );
    print_settings(
        "ConnectWise Manage",
        "ConnectWise Manage",
        &[
            ("Site (PSA address)", cw.base_url()),
            ("Codebase", cw.codebase().into()),
            ("Company ID", connectwise::COMPANY_ID.into()),
            ("Public key", connectwise::PUBLIC_KEY.into()),
            ("Private key", connectwise::PRIVATE_KEY.into()),
            ("Client ID", connectwise::CLIENT_ID.into()),
            ("Site of new companies", connectwise::DEFAULT_SITE.into()),
            (
                "Address of new companies",
                connectwise::DEFAULT_ADDRESS.into(),
            ),
        ],
        &cw.control_page_url(),
        cw.companies().len(),
    );
    println!("API root: {}", cw.api_url());
    Ok(Sandbox::ConnectWise(cw))
}

fn start_autotask(port: u16) -> std::io::Result<Sandbox> {
    let at = AutotaskDouble::start_on_port(port)?;
    at.add_company("Acme Corporation", "ACME01", "Customer", true);
    at.add_company("Globex", "GLOBEX", "Customer", true);
    at.add_company("Initech", "INITECH", "Prospect", true);
    at.add_company("Umbrella Supplies", "UMBRELLA", "Vendor", false);
    print_settings(
        "Autotask",
        "Autotask",
        &[
            ("Zone lookup (PSA address)", at.base_url()),
            ("Username", autotask::USERNAME.into()),
            ("Secret", autotask::SECRET.into()),
            ("Integration code", autotask::INTEGRATION_CODE.into()),
            ("Owner resource id", autotask::OWNER_RESOURCE_ID.to_string()),
        ],
        &at.control_page_url(),
        at.companies().len(),
    );
    println!("Zone (as the lookup answers): {}", at.zone_url());
    Ok(Sandbox::Autotask(at))
}
