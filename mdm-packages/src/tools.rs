//! Test support: run an external tool (python3, zbarimg) that checks our
//! output, skipping locally when it is missing and failing under `CI=true`.

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `program args…` with `stdin`, returning stdout, or `None` when the
/// tool is not installed and we are not in CI (where that is a failure).
pub(crate) fn run_tool(
    program: &str,
    args: &[&str],
    stdin: &[u8],
) -> Option<(bool, String, String)> {
    let spawned = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "`{program}` is required in CI (CI=true) but is not installed"
            );
            eprintln!("skipping: `{program}` is not installed");
            return None;
        }
        Err(e) => panic!("cannot run `{program}`: {e}"),
    };
    let mut input = child.stdin.take().expect("stdin is piped");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("tool runs to completion");
    writer.join().expect("stdin writer finishes");
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}
