//! The `load` subcommand's arguments and what it does with them: read the
//! CA files, run, print the summary, write the JSON and HTML reports.

use std::path::PathBuf;
use std::time::Duration;

use super::ours::OursOptions;
use super::runner::{Identities, LoadOptions, run};
use super::target::{Target, TargetKind};
use crate::HarnessError;

/// `mdm-harness load`: simulated devices over real HTTP(S) against a server.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// The server's base URL (http:// or https://).
    #[arg(long)]
    pub target: String,
    /// What the server is: `nanomdm` (a plain Apple MDM server) or `ours`
    /// (`mdm-harness serve`).
    #[arg(long, default_value = "nanomdm")]
    pub target_kind: TargetKind,
    /// Simulated devices.
    #[arg(long, default_value_t = 100)]
    pub devices: u32,
    /// Connections (workers) at once, each carrying its share of the devices.
    #[arg(long, default_value_t = 50)]
    pub concurrency: u32,
    /// Seconds of steady Idle connects after the flow (0: none).
    #[arg(long, default_value_t = 0)]
    pub duration: u64,
    /// Seconds one request may take.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// The CA certificate (PEM) the target trusts for device identities
    /// (nanomdm's `-ca`); devices get certificates it issues.
    #[arg(long)]
    pub ca_cert: Option<PathBuf>,
    /// The CA's private key (PEM).
    #[arg(long)]
    pub ca_key: Option<PathBuf>,
    /// The CA (PEM) an https:// target's server certificate chains to.
    #[arg(long)]
    pub target_ca: Option<PathBuf>,
    /// The target's API key (nanomdm's `-api`).
    #[arg(long)]
    pub api_key: Option<String>,
    /// Ours: the tenant's administrator token (serve prints it).
    #[arg(long)]
    pub admin_token: Option<String>,
    /// Ours: Android agents besides the `--devices` Apple devices.
    #[arg(long, default_value_t = 0)]
    pub android: u32,
    /// Ours: the APNs stand-in's certificates (written by `--prepare-apns`;
    /// serve was started with `--apns-issuer DIR/apns-issuer.pem --apns-ca
    /// DIR/apns-ca.pem --apns https://<--apns-listen>`).
    #[arg(long)]
    pub apns_dir: Option<PathBuf>,
    /// Ours: write the stand-in's certificates into `--apns-dir` and exit.
    #[arg(long)]
    pub prepare_apns: bool,
    /// Ours: where this process runs the APNs stand-in (serve's `--apns`).
    #[arg(long, default_value = "127.0.0.1:2197")]
    pub apns_listen: std::net::SocketAddr,
    /// Ours: RSA-2048 keys made once and shared by the devices' SCEP requests.
    #[arg(long, default_value_t = 8)]
    pub rsa_keys: usize,
    /// The push topic the devices enroll with (nanomdm; ours reads the profile's).
    #[arg(
        long,
        default_value = "com.apple.mgmt.External.00000000-0000-0000-0000-000000000000"
    )]
    pub topic: String,
    /// Where check-in messages go: `/mdm` (told apart by their content
    /// type) or `/checkin` (nanomdm started with `-checkin`).
    #[arg(long, default_value = "/mdm")]
    pub check_in_path: String,
    /// The run's id in every UDID (default: from the clock), so two runs
    /// against one server are two fleets.
    #[arg(long)]
    pub run_id: Option<u32>,
    /// Each device sends its first Idle's `Mdm-Signature` again with every
    /// later (identical) Idle: the server still verifies each, and the load
    /// client spends no RSA signature per check-in (for capacity runs on a
    /// machine the server shares).
    #[arg(long)]
    pub reuse_idle_signatures: bool,
    /// Write the JSON report here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Write the HTML report here.
    #[arg(long)]
    pub html: Option<PathBuf>,
}

fn read(path: &PathBuf) -> Result<String, HarnessError> {
    std::fs::read_to_string(path).map_err(|source| HarnessError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn write(path: &PathBuf, text: &str) -> Result<(), HarnessError> {
    std::fs::write(path, text).map_err(|source| HarnessError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn apns_dir(args: &LoadArgs) -> Result<&PathBuf, HarnessError> {
    args.apns_dir.as_ref().ok_or(HarnessError::InvalidOption {
        option: "apns-dir",
        reason: "the APNs stand-in's folder (made by --prepare-apns)".into(),
    })
}

/// `--prepare-apns`: the stand-in's certificates, and the flags serve takes.
fn prepare_apns(args: &LoadArgs) -> Result<bool, HarnessError> {
    let dir = apns_dir(args)?;
    let seed = u64::from(args.run_id.unwrap_or(19));
    let files = super::standin::prepare(dir, time::OffsetDateTime::now_utc(), seed)?;
    println!("topic {}", files.topic.as_str());
    println!(
        "serve flags: --apns https://{} --apns-issuer {} --apns-ca {}",
        args.apns_listen,
        dir.join(super::standin::ISSUER_FILE).display(),
        dir.join(super::standin::SERVER_CA_FILE).display()
    );
    Ok(true)
}

fn ours_options(args: &LoadArgs) -> Result<OursOptions, HarnessError> {
    let admin_token = args
        .admin_token
        .clone()
        .ok_or(HarnessError::InvalidOption {
            option: "admin-token",
            reason: "ours: the tenant's administrator token".into(),
        })?;
    Ok(OursOptions {
        admin_token,
        android: args.android,
        apns: super::standin::StandInFiles::read(apns_dir(args)?)?,
        apns_listen: args.apns_listen,
        rsa_keys: args.rsa_keys,
    })
}

/// Runs `load`: prints phases to stderr and the summary to stdout, writes
/// the reports. Returns whether every device completed with no error.
///
/// # Errors
/// [`HarnessError`] for bad arguments or files, or a run that cannot start.
pub fn command(args: &LoadArgs) -> Result<bool, HarnessError> {
    if args.prepare_apns {
        return prepare_apns(args);
    }
    let target = Target::parse(args.target_kind, &args.target)?;
    let ours = match args.target_kind {
        TargetKind::Nanomdm => None,
        TargetKind::Ours => Some(ours_options(args)?),
    };
    let identities = match (&args.ca_cert, &args.ca_key) {
        _ if ours.is_some() => Identities::Enrollment,
        (Some(cert), Some(key)) => {
            let ca = mdm_certs::CertificateAuthority::from_pem(&read(cert)?, &read(key)?, None)
                .map_err(|source| HarnessError::Certificates {
                    step: "reading --ca-cert and --ca-key",
                    source,
                })?;
            Identities::FromCa(Box::new(ca))
        }
        _ => {
            return Err(HarnessError::InvalidOption {
                option: "ca-cert",
                reason: "--ca-cert and --ca-key: the CA the target trusts for device identities"
                    .into(),
            });
        }
    };
    let topic =
        mdm_model::PushTopic::parse(&args.topic).map_err(|e| HarnessError::InvalidOption {
            option: "topic",
            reason: e.to_string(),
        })?;
    let run_id = args.run_id.unwrap_or_else(|| {
        let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        u32::try_from((now / 1000).unsigned_abs() & u128::from(u32::MAX)).unwrap_or(0)
    });
    let options = LoadOptions {
        target,
        devices: args.devices,
        concurrency: args.concurrency,
        duration: Duration::from_secs(args.duration),
        timeout: Duration::from_secs(args.timeout),
        identities,
        target_ca_pem: args.target_ca.as_ref().map(read).transpose()?,
        api_key: args.api_key.clone(),
        topic,
        check_in_route: args.check_in_path.clone(),
        run_id,
        ours,
        reuse_idle_signatures: args.reuse_idle_signatures,
    };
    let report = run(options, &|phase| eprintln!("load: {phase}"))?;
    print!("{}", report.summary());
    if let Some(path) = &args.report {
        let json = report.to_json().map_err(|e| HarnessError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        write(path, &json)?;
        println!("report: {}", path.display());
    }
    if let Some(path) = &args.html {
        write(path, &report.to_html())?;
        println!("html: {}", path.display());
    }
    Ok(report.all_completed())
}
