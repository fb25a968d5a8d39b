//! Running commands: quietly into a log (for test stages), or in the foreground.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `command` with the terminal attached; an error names the command and its exit status.
pub(crate) fn run(mut command: Command) -> Result<(), String> {
    let shown = describe(&command);
    let status = command.status().map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{shown}` failed ({status})")) }
}

/// Runs `command` with stdout and stderr written to `log`; returns whether it succeeded.
pub(crate) fn run_logged(mut command: Command, log: &Path) -> Result<bool, String> {
    let shown = describe(&command);
    let file = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err_file = file.try_clone().map_err(|e| format!("cannot share {}: {e}", log.display()))?;
    command.stdout(Stdio::from(file)).stderr(Stdio::from(err_file)).stdin(Stdio::null());
    let status = command.status().map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    Ok(status.success())
}

/// The first line of what `command` prints on stdout, if it runs at all.
pub(crate) fn first_line(mut command: Command) -> Option<String> {
    let output = command.stderr(Stdio::null()).output().ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8_lossy(&output.stdout).lines().next().map(str::to_string)
}

/// Replaces this process with `command` (Unix), so signals go straight to it.
#[cfg(unix)]
pub(crate) fn exec(mut command: Command) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    let shown = describe(&command);
    let err = command.exec();
    Err(format!("cannot start `{shown}`: {err}"))
}

#[cfg(not(unix))]
pub fn exec(command: Command) -> Result<(), String> {
    run(command)
}

pub(crate) fn describe(command: &Command) -> String {
    let mut shown = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        shown.push(' ');
        shown.push_str(&arg.to_string_lossy());
    }
    shown
}

/// `cargo`, as the one running xtask.
pub(crate) fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(crate::workspace_root());
    command
}
